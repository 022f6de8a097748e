import type { ConfigSchema } from '../config/index.js';

export const tracingConfigSchema = {
  tracing: {
    enabled: {
      doc: 'Server spans, W3C context propagation and trace ids in log lines. Off: no tracing hooks at all.',
      format: Boolean,
      default: true,
    },
    exporter: {
      doc: 'Where finished spans go: none (ids and propagation only, no SDK loaded), console (spans as log lines) or otlp (OTLP over HTTP). console and otlp need the OpenTelemetry SDK packages installed.',
      format: ['none', 'console', 'otlp'] as const,
      default: 'none',
    },
    otlp: {
      endpoint: {
        doc: 'OTLP/HTTP traces endpoint of the collector.',
        format: String,
        default: 'http://127.0.0.1:4318/v1/traces',
      },
      headers: {
        doc: 'Extra headers for the collector, as comma-separated key=value pairs (for example an API key).',
        format: String,
        default: '',
        sensitive: true,
      },
      timeoutMs: {
        doc: 'Time in ms one export request may take.',
        format: 'nat',
        default: 10000,
      },
    },
    sampler: {
      ratio: {
        doc: 'Share of new traces that are recorded and exported, from 0 to 1.',
        format: 'ratio',
        default: 1,
      },
      parentBased: {
        doc: "Follow the caller's sampling decision when a request carries one; the ratio then applies to new traces only.",
        format: Boolean,
        default: true,
      },
    },
    batch: {
      delayMs: {
        doc: 'Longest time in ms a finished span waits before it is exported.',
        format: 'nat',
        default: 1000,
      },
      maxQueueSize: {
        doc: 'Finished spans kept in memory while the collector is slow; beyond it spans are dropped, never the requests.',
        format: 'nat',
        default: 2048,
      },
    },
  },
} satisfies ConfigSchema;
