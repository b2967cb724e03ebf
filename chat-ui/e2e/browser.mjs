// Debian's Chromium driven by playwright-core: never a downloaded browser.

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.AOS_CHROMIUM ?? "/usr/bin/chromium";

/** The flags the issue asks for: headless, no sandbox, nothing phoning home. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh profile (no tokens, no theme) at desktop size, light system theme. */
export function newContext(browser, baseURL, options = {}) {
  return browser.newContext({
    baseURL,
    viewport: { width: 1280, height: 860 },
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "UTC",
    ...options,
  });
}
