import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
  Summary,
  type SummaryConfiguration,
} from 'prom-client';

import { FastHistogram } from './fast-histogram.js';
import { InfoMetric } from './info-metric.js';

type Without<C> = Omit<C, 'registers'>;

/**
 * The metrics of one service: its own prom-client registry (never the global one, so several
 * services can share a process) and factories that register there.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  /** `service_info`: add labels that describe this instance with `metrics.info.set({ … })`. */
  readonly info = new InfoMetric();

  constructor() {
    this.registry.registerMetric(this.info.asMetric());
  }

  counter<L extends string>(config: Without<CounterConfiguration<L>>): Counter<L> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<L extends string>(config: Without<GaugeConfiguration<L>>): Gauge<L> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<L extends string>(config: Without<HistogramConfiguration<L>>): Histogram<L> {
    return new Histogram({ ...config, registers: [this.registry] });
  }

  /**
   * A histogram for per-request hot paths: each series is found by a string key the caller builds,
   * and its labels are read only when the series is new (see {@link FastHistogram}).
   */
  fastHistogram<L extends string>(config: {
    name: string;
    help: string;
    buckets: readonly number[];
  }): FastHistogram<L> {
    const histogram = new FastHistogram<L>(config.name, config.help, config.buckets);
    this.registry.registerMetric(histogram.asMetric());
    return histogram;
  }

  summary<L extends string>(config: Without<SummaryConfiguration<L>>): Summary<L> {
    return new Summary({ ...config, registers: [this.registry] });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
