export { composeSchema, envNameFor, type SchemaFragment } from './compose-schema.js';
export { ConfigError, type ConfigViolation } from './config-error.js';
export { addConfigFormat } from './describe-format.js';
export { type LoadConfigOptions, loadConfig } from './load-config.js';
export type { Environment } from './read-environment.js';
export type { ConfigLeaf, ConfigPath, ConfigSchema, ConfigValue, InferConfig } from './schema-types.js';
export {
  type ConfigChange,
  type ConfigChangeListener,
  type ConfigEntry,
  type ConfigReload,
  type ConfigSource,
  createServiceConfig,
  type ReloadOptions,
  type RuntimeLayer,
  type ServiceConfig,
} from './service-config.js';
