import type { Metric, MetricObjectWithValues, MetricValue } from 'prom-client';

/**
 * The service's one info metric, `service_info`: always 1, its labels describe the running
 * instance in OpenTelemetry's resource attribute names (`service_name`, `service_instance_id`, …).
 * Capabilities add labels of their own (the info plugin adds the release). No label is called
 * `instance` or `job`: Prometheus sets those on every scraped series and would rename ours.
 */
export class InfoMetric {
  readonly name = 'service_info';
  readonly help = 'Always 1; labels describe the service instance (OpenTelemetry resource attributes).';
  readonly type = 'gauge';
  readonly aggregator = 'first';
  readonly #labels: Record<string, string> = {};

  /** Adds or replaces labels. Names must be valid Prometheus label names. */
  set(labels: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(labels)) {
      if (
        !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ||
        name.startsWith('__') ||
        name === 'instance' ||
        name === 'job'
      )
        throw new TypeError(`"${name}" cannot be a label of ${this.name}`);
      this.#labels[name] = value;
    }
  }

  collect(): void {}

  reset(): void {}

  async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    return {
      name: this.name,
      help: this.help,
      type: 'gauge' as never,
      aggregator: 'first',
      values: [{ labels: { ...this.#labels }, value: 1 }],
      collect: this.collect,
    };
  }

  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
