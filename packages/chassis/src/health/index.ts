export { healthConfigSchema } from './config-schema.js';
export type { CheckResult, HealthIndicator, HealthStatus, IndicatorResult } from './health-indicator.js';
export { HEALTH_CONTENT_TYPE, healthPlugin } from './health-plugin.js';
export { HealthRegistry, type HealthReport } from './health-registry.js';
