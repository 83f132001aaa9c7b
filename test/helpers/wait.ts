/**
 * Waiting in tests for something observable, never for a fixed time: `until` polls a condition,
 * bounded, and fails naming what it waited for.
 */

/** Polls `check` every 10 ms until it holds, for at most `timeoutMs`; throws naming `what` past it. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what = 'a condition',
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
