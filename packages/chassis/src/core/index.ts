export { coreConfigSchema } from './config-schema.js';
export { refuseEmbeddedInProduction } from './embedded-defaults.js';
export {
  ErrorChannel,
  type ErrorContext,
  type ErrorListener,
  type ErrorSource,
} from './error-channel.js';
export { PluginError } from './errors.js';
export { Lifecycle, type LifecycleListener, type LifecycleState } from './lifecycle.js';
export { type AnyPlugin, definePlugin, type Plugin } from './plugin.js';
export { orderPlugins } from './plugin-order.js';
export { type ManagedService, manageProcess } from './process-handlers.js';
export type {
  CoreConfig,
  LifecycleHook,
  ServiceCapabilities,
  ServiceContext,
  StopHookOptions,
} from './service-context.js';
export { ServiceHost, type ServiceHostOptions, type ShutdownSettings } from './service-host.js';
export { type ShutdownOverrides, shutdownBudgetMs } from './shutdown-budget.js';
export { SHUTDOWN_PHASES, type ShutdownPhase } from './shutdown-phases.js';
