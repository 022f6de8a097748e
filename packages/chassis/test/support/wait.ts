import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `read` until `done(value)` holds and returns that value; fails naming `what` after
 * `timeoutMs`. The bound is a limit against hanging, never a timing assertion.
 */
export async function waitFor<T>(
  what: string,
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<{ value: T; elapsedMs: number }> {
  const began = performance.now();
  let value = await read();
  while (!done(value)) {
    if (performance.now() - began > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(20);
    value = await read();
  }
  return { value, elapsedMs: performance.now() - began };
}

/** Polls until `condition` holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(what, condition, Boolean, timeoutMs);
}
