export { tracingConfigSchema } from './config-schema.js';
export {
  extractTraceContext,
  type HeaderCarrier,
  injectTraceContext,
  W3CPropagator,
} from './propagation.js';
export { type Tracing, tracingPlugin } from './tracing-plugin.js';
