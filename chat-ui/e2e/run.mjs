// Runs the UI end-to-end tests against a running `aos`:
//
//   node e2e/run.mjs <base-url> [screenshot-dir] [name-filter]
//
// One headless Chromium; each test gets a fresh browser context (a new
// profile: no tokens, no theme). Screenshots are numbered in run order in one
// folder (a failing test adds one named FAILED-…). Prints one line per test
// and "ui-e2e: N passed, N failed"; exits 1 when a test fails.

import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { launchBrowser, newContext } from "./browser.mjs";
import { TESTS } from "./specs/index.mjs";

const [base, artifactsArg, filter] = process.argv.slice(2);
if (!base) {
  console.error("usage: node e2e/run.mjs <base-url> [screenshot-dir] [name-filter]");
  process.exit(2);
}
// Outside the clone by default, like scripts/ui-e2e.sh.
const artifacts = path.resolve(
  artifactsArg ||
    process.env.AOS_UI_ARTIFACTS ||
    path.join(process.env.AOS_CACHE_DIR || os.tmpdir(), "ui-artifacts"),
);
await mkdir(artifacts, { recursive: true });

const DEFAULT_TIMEOUT_MS = 45_000;

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const browser = await launchBrowser();
const selected = TESTS.filter((t) => !filter || t.name.includes(filter));
const started = performance.now();
let passed = 0;
let failed = 0;
let shotNumber = 0;

/** Whether the server still answers; a dead one fails the rest fast instead of by timeouts. */
async function serverAnswers() {
  try {
    return (await fetch(new URL("/healthz", base), { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

for (const test of selected) {
  if (!(await serverAnswers())) {
    failed += 1;
    console.log(`FAIL  ${test.name}\n      aos does not answer ${base}/healthz`);
    continue;
  }
  const context = await newContext(browser, base);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  const consoleErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => msg.type() === "error" && consoleErrors.push(msg.text()));
  const shots = [];
  const shot = async (name, options = {}) => {
    shotNumber += 1;
    const file = path.join(artifacts, `${String(shotNumber).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, ...options });
    shots.push(path.basename(file));
  };
  const t0 = performance.now();
  try {
    await withTimeout(test.run({ page, context, base, shot }), test.timeout ?? DEFAULT_TIMEOUT_MS, test.name);
    if (pageErrors.length > 0) throw new Error(`uncaught errors in the page: ${pageErrors.join(" | ")}`);
    passed += 1;
    console.log(`ok    ${test.name} (${seconds(performance.now() - t0)}) ${shots.join(" ")}`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL  ${test.name} (${seconds(performance.now() - t0)})`);
    console.log(`      ${(err instanceof Error ? err.message : String(err)).replaceAll("\n", "\n      ")}`);
    for (const line of consoleErrors.slice(-5)) console.log(`      console: ${line}`);
    await shot(`FAILED-${test.name.replace(/\W+/g, "-").slice(0, 40)}`).catch(() => undefined);
    console.log(`      screenshot: ${shots.at(-1) ?? "none"}`);
  } finally {
    await context.close();
  }
}

await browser.close();
console.log(`screenshots: ${artifacts}`);
console.log(`time: ${seconds(performance.now() - started)}`);
console.log(`ui-e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || selected.length === 0 ? 1 : 0);
