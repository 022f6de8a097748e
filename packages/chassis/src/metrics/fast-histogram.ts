import type { Metric, MetricObjectWithValues, MetricValueWithName } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: number[];
  sum: number;
}

/**
 * A histogram for the per-request hot path: observing is a map lookup, a short bucket scan and two
 * additions. prom-client's Histogram re-validates and re-hashes the labels on every observation;
 * this one does that work once per series and renders prom-client's format at scrape time.
 */
export class FastHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  /** Adds a value to the series identified by `key`; `labels` is read only when the series is new. */
  observe(key: string, labels: () => Record<L, string>, value: number): void {
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: labels(), counts: new Array(this.bounds.length + 1).fill(0), sum: 0 };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
  }

  collect(): void {}

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, counts, sum } of this.#series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      cumulative += counts[this.bounds.length] as number;
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: '+Inf' },
        value: cumulative,
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative });
    }
    return {
      name: this.name,
      help: this.help,
      type: 'histogram' as never,
      values,
      aggregator: 'sum',
      collect: this.collect,
    };
  }

  reset(): void {
    this.#series.clear();
  }

  /** Registers in a prom-client registry, next to the regular metrics. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
