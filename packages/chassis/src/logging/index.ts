export { loggingConfigSchema } from './config-schema.js';
export {
  type CreateLoggerOptions,
  createLogger,
  DEFAULT_REDACT_PATHS,
  type LogMixin,
  type ServiceLogger,
} from './create-logger.js';
export { queryRedactor, REDACTED } from './redact-url.js';
export { sensitiveValues } from './secret-values.js';
