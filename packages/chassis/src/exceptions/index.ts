export { exceptionsConfigSchema } from './config-schema.js';
export type { ExceptionEvent, ExceptionReporter } from './exception-event.js';
export type { ExceptionTracking } from './exception-tracker.js';
export {
  createExceptionsPlugin,
  type ExceptionsPluginOptions,
  exceptionsPlugin,
} from './exceptions-plugin.js';
