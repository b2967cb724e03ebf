// Dark mode: the toggle switches the theme, the colours follow, and the
// choice outlives a reload.

import { ADMIN, signIn } from "../app.mjs";
import { check, equal, eventually } from "../expect.mjs";

/** Relative luminance (0 black … 1 white) of the page background. */
function backgroundLuminance(page) {
  return page.evaluate(() => {
    const colour = getComputedStyle(document.body).backgroundColor;
    const [r, g, b] = (colour.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  });
}

const theme = (page) => page.evaluate(() => document.documentElement.dataset.theme);

export const themeTests = [
  {
    name: "the theme toggle switches to dark mode and keeps it",
    async run({ page, shot }) {
      await signIn(page, ADMIN);
      const toggle = page.getByTestId("theme-toggle");
      equal(await theme(page), "light", "a light system starts light");
      equal(await toggle.getAttribute("aria-pressed"), "false", "the toggle starts off");
      const light = await backgroundLuminance(page);

      await toggle.click();
      await eventually(async () => (await theme(page)) === "dark", "the page turns dark");
      equal(await toggle.getAttribute("aria-pressed"), "true", "the toggle is on");
      const dark = await backgroundLuminance(page);
      check(
        dark < 0.1 && light > 0.5,
        `the background darkens (luminance ${light.toFixed(2)} → ${dark.toFixed(2)})`,
      );
      await shot("chat-dark");

      await page.reload();
      await page.getByTestId("chat-input").waitFor();
      equal(await theme(page), "dark", "dark mode survives a reload");
      await page.getByTestId("nav-platform").click();
      await page.locator("[data-testid=platform-connectors] [data-testid=live-status]").waitFor();
      await shot("platform-dark");

      await page.getByTestId("theme-toggle").click();
      await eventually(async () => (await theme(page)) === "light", "the toggle goes back to light");
    },
  },
  {
    name: "a dark system starts dark",
    async run({ page, shot }) {
      await page.emulateMedia({ colorScheme: "dark" });
      await page.goto("/");
      await eventually(async () => (await theme(page)) === "dark", "the sign-in page follows the system");
      equal(
        await page.getByTestId("theme-toggle").getAttribute("aria-pressed"),
        "true",
        "the toggle shows dark",
      );
      await shot("signin-dark");
    },
  },
];
