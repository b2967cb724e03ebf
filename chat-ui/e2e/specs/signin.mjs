// Signing in: a wrong password is refused on the page, the right one opens chat.

import { ADMIN, PASSWORD } from "../app.mjs";
import { check, eventually, expectTitle } from "../expect.mjs";

export const signInTests = [
  {
    name: "sign-in refuses a wrong password, then opens the chat",
    async run({ page, shot }) {
      await page.goto("/");
      await expectTitle(page, "AOS Sign in");
      await shot("signin");

      await page.getByTestId("signin-email").fill(ADMIN);
      await page.getByTestId("signin-password").fill("not-the-password");
      await page.getByTestId("signin-submit").click();
      const error = page.getByTestId("signin-error");
      await error.waitFor();
      check(((await error.textContent()) ?? "").trim().length > 0, "the sign-in error says something");
      await shot("signin-error");

      await page.getByTestId("signin-password").fill(PASSWORD);
      await page.getByTestId("signin-submit").click();
      await page.getByTestId("chat-input").waitFor();
      await expectTitle(page, "AOS Chat");
      const user = await page.getByTestId("user-menu").innerText();
      check(/admin/i.test(user), `the user menu names the admin role: "${user}"`);
      await page.locator("[data-testid=connection-status][data-status=open]").waitFor();
      await shot("chat-empty");

      // A reload keeps the session (tokens in localStorage).
      await page.reload();
      await page.getByTestId("chat-input").waitFor();
      await eventually(
        async () => (await page.getByTestId("signin-email").count()) === 0,
        "still signed in after a reload",
      );
    },
  },
];
