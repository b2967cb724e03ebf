// Steps every test takes through the real UI, and a little REST for setup.

import { check, eventually, expectTitle } from "./expect.mjs";

export const PASSWORD = "autonomos-demo";
export const ADMIN = "admin@demo.aos";
/** An approver: may decide mapping approvals. */
export const APPROVER = "cfo@demo.aos";
export const VIEWER = "viewer@demo.aos";

/** Signs in through the sign-in page and waits for the chat screen. */
export async function signIn(page, email) {
  await page.goto("/");
  await expectTitle(page, "AOS Sign in");
  await page.getByTestId("signin-email").fill(email);
  await page.getByTestId("signin-password").fill(PASSWORD);
  await page.getByTestId("signin-submit").click();
  await page.getByTestId("chat-input").waitFor();
  await expectTitle(page, "AOS Chat");
  await page.locator("[data-testid=connection-status][data-status=open]").waitFor();
}

/** Sends `text` from the composer; returns the new answer's locator. */
export async function ask(page, text) {
  const answers = page.getByTestId("assistant-message");
  const before = await answers.count();
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("send-button").click();
  const answer = answers.nth(before);
  await answer.waitFor();
  return answer;
}

/** Waits until an answer has finished, and checks it finished well. */
export async function finished(answer, timeout = 30_000) {
  const status = await eventually(
    async () => {
      const s = await answer.getAttribute("data-status");
      return s !== "pending" && s !== "streaming" && s;
    },
    "the answer finishes",
    { timeout },
  );
  const error = status === "error" ? await answer.getByTestId("message-error").textContent() : null;
  check(status === "done", `the answer ended "${status}"${error ? `: ${error}` : ""}`);
}

/** Opens a page from the main navigation and checks its title. */
export async function openPage(page, name, title) {
  await page.getByTestId(`nav-${name}`).click();
  await expectTitle(page, title);
}

/** REST calls as a demo user, for setting up what a test needs. */
export async function apiAs(base, email) {
  const login = await fetch(new URL("/api/v1/auth/login", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  check(login.ok, `login as ${email}: HTTP ${login.status}`);
  const { access_token: token } = await login.json();
  return async function call(method, path, body) {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: callers show `text` in their messages.
    }
    return { status: res.status, json, text };
  };
}
