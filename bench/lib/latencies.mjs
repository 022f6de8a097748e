// Response times at full timer precision: autocannon's own histogram keeps whole milliseconds, too
// coarse to compare a p99 of a few ms.

export class Latencies {
  #values = new Float64Array(1 << 16);
  #count = 0;

  /** Records one response time in ms. */
  record(ms) {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  /** Nearest-rank percentiles of everything recorded. */
  percentiles(...ps) {
    const sorted = this.#values.subarray(0, this.#count).sort();
    return ps.map((p) =>
      sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)],
    );
  }
}
