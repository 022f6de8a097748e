import type { ConfigSchema } from '../config/index.js';

export const metricsConfigSchema = {
  metrics: {
    enabled: {
      doc: 'Collect and serve Prometheus metrics. When off, plugins can still create metrics, but nothing collects runtime or HTTP metrics and nothing serves them.',
      format: Boolean,
      default: true,
    },
    path: {
      doc: 'Path of the Prometheus text exposition.',
      format: String,
      default: '/metrics',
    },
    port: {
      doc: 'Serve metrics on a separate port instead of the main HTTP server; 0 keeps them on the main server.',
      format: 'port',
      default: 0,
    },
    host: {
      doc: 'Address of the separate metrics server (when metrics.port is set).',
      format: String,
      default: '0.0.0.0',
    },
    runtime: {
      doc: 'Collect process and Node.js runtime metrics (CPU, memory, event loop, GC, handles).',
      format: Boolean,
      default: true,
    },
  },
} as const satisfies ConfigSchema;
