/** Something that fires when its time is up. */
export interface Expiring {
  readonly expiresAt: number;
  expire(): void;
}

// One interval serves every pending deadline: a timer per call would cost more than the policies
// themselves. Deadlines fire up to one tick late.
const TICK_MS = 5;
const pending = new Set<Expiring>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  for (const entry of pending)
    if (entry.expiresAt <= now) {
      pending.delete(entry);
      entry.expire();
    }
  if (pending.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/** Calls `entry.expire()` once `performance.now()` passes `entry.expiresAt`, unless cleared first. */
export function scheduleExpiry(entry: Expiring): void {
  pending.add(entry);
  // Unreferenced: a pending deadline alone does not keep a process alive; the request it guards does.
  ticker ??= setInterval(tick, TICK_MS).unref();
}

export function clearExpiry(entry: Expiring): void {
  pending.delete(entry);
}
