const BUCKETS = 10;
const BUCKET_MS = 1000;

/**
 * Caps retries at a share of recent calls (plus a small floor), over a sliding 10-second window:
 * when a downstream fails for everyone, retries add at most `ratio` to its load instead of
 * multiplying it by the attempt count (the retry budget of Finagle and Linkerd).
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #epoch = 0;

  constructor(options: { ratio: number; minPerSecond: number }) {
    this.#ratio = options.ratio;
    this.#floor = (options.minPerSecond * BUCKETS * BUCKET_MS) / 1000;
  }

  /** Counts a call (a first attempt). */
  recordCall(now = Date.now()): void {
    const i = this.#bucket(now);
    this.#calls[i] = (this.#calls[i] ?? 0) + 1;
  }

  /** True when one more retry stays within the budget. */
  canRetry(now = Date.now()): boolean {
    this.#bucket(now);
    let calls = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      calls += this.#calls[i] as number;
      retries += this.#retries[i] as number;
    }
    return retries < this.#floor + this.#ratio * calls;
  }

  /** Spends one retry. */
  recordRetry(now = Date.now()): void {
    const i = this.#bucket(now);
    this.#retries[i] = (this.#retries[i] ?? 0) + 1;
  }

  /** The bucket of `now`, clearing buckets that fell out of the window since the last call. */
  #bucket(now: number): number {
    const epoch = Math.floor(now / BUCKET_MS);
    const stale = Math.min(epoch - this.#epoch, BUCKETS);
    for (let i = 1; i <= stale; i++) {
      const index = (this.#epoch + i) % BUCKETS;
      this.#calls[index] = 0;
      this.#retries[index] = 0;
    }
    if (stale > 0) this.#epoch = epoch;
    return epoch % BUCKETS;
  }
}
