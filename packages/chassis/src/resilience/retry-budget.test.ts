import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('allows the floor of retries per second over its 10 s window, plus the ratio of calls', () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1 });
    const t = 1_000_000;
    for (let i = 0; i < 20; i++) budget.recordCall(t);
    // floor 10 + 0.5 × 20 calls = 20 retries
    let allowed = 0;
    while (budget.canRetry(t) && allowed < 100) {
      budget.recordRetry(t);
      allowed++;
    }
    expect(allowed).toBe(20);
  });

  it('forgets calls and retries that left the window', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 1 });
    const t = 5_000_000;
    for (let i = 0; i < 10; i++) budget.recordRetry(t);
    expect(budget.canRetry(t)).toBe(false);
    expect(budget.canRetry(t + 9_000)).toBe(false);
    expect(budget.canRetry(t + 10_000)).toBe(true);
  });

  it('a zero floor and ratio allow no retries at all', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 });
    budget.recordCall(0);
    expect(budget.canRetry(0)).toBe(false);
  });
});
