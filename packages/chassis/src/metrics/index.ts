export { metricsConfigSchema } from './config-schema.js';
export type { FastHistogram } from './fast-histogram.js';
export { UNMATCHED_ROUTE } from './http-metrics.js';
export type { InfoMetric } from './info-metric.js';
export { metricsPlugin } from './metrics-plugin.js';
export { ServiceMetrics } from './service-metrics.js';
