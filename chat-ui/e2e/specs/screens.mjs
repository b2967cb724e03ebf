// The other screens: each has its "AOS <Feature>" title and shows live
// backend data; the chat fits a 375 px wide phone; unknown paths say so.

import { ADMIN, openPage, signIn } from "../app.mjs";
import { check, eventually, expectTitle } from "../expect.mjs";

/** The live-status dot of `scope` once it has settled (not loading). */
async function settledState(page, scope) {
  const dot = page.locator(`${scope} [data-testid=live-status]`).first();
  return eventually(async () => {
    const state = await dot.getAttribute("data-state");
    return state !== "loading" && state;
  }, `the live-status dot of ${scope} settles`);
}

export const screenTests = [
  {
    name: "approvals, usage and platform screens show live data under their titles",
    async run({ page, shot }) {
      await signIn(page, ADMIN);

      await openPage(page, "approvals", "AOS Approvals");
      await page.getByTestId("approvals-list").waitFor({ state: "attached" });
      const approvals = await settledState(page, ".page__head");
      check(approvals !== "offline", `approvals load (${approvals})`);
      await shot("approvals");

      await openPage(page, "usage", "AOS Usage");
      const usage = await settledState(page, ".page__head");
      check(usage !== "offline", `usage loads (${usage})`);
      // Offline answers use no tokens: a chart of zeros, or no days at all.
      await page.locator("[data-testid=usage-chart], .card .empty").first().waitFor();
      await shot("usage");

      await openPage(page, "platform", "AOS Platform");
      for (const section of ["connectors", "drift", "assets", "shadow-it"]) {
        const state = await settledState(page, `[data-testid=platform-${section}]`);
        check(state === "live", `the demo's ${section} section shows live data (${state})`);
      }
      const connectors = await page.getByTestId("platform-connectors").innerText();
      check(connectors.includes("ops-files"), "the demo's ops-files connector is listed");
      await shot("platform", { fullPage: true });

      await page.goto("/no-such-page");
      await expectTitle(page, "AOS Not found");
    },
  },
  {
    name: "the chat fits a 375 px wide screen",
    async run({ page, shot }) {
      await page.setViewportSize({ width: 375, height: 760 });
      await signIn(page, ADMIN);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `nothing sticks out sideways (${overflow} px too wide)`);
      await page.getByTestId("chat-input").focus();
      await shot("chat-375");
      await page.getByTestId("nav-knowledge").click();
      await expectTitle(page, "AOS Knowledge");
      const overflowKnowledge = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      check(overflowKnowledge <= 0, `the knowledge page fits too (${overflowKnowledge} px too wide)`);
      await shot("knowledge-375");
    },
  },
];
