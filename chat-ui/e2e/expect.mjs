// Plain assertions with a retry for what the page settles into over time.

export class AssertionError extends Error {
  name = "AssertionError";
}

export function check(condition, message) {
  if (!condition) throw new AssertionError(message);
}

export function equal(actual, expected, message) {
  if (actual !== expected) {
    throw new AssertionError(
      `${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

/**
 * Polls `probe` until it returns a truthy value (which is returned) or the
 * time runs out; the last falsy value or error goes into the message.
 */
export async function eventually(probe, message, { timeout = 10_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) {
      throw new AssertionError(`${message} (not within ${timeout} ms; last: ${JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The page title, once it reads `expected`. */
export function expectTitle(page, expected) {
  return eventually(async () => (await page.title()) === expected, `page title "${expected}"`, {
    timeout: 5_000,
  });
}
