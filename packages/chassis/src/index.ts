export {
  AccessTokenError,
  type AccessTokens,
  accessTokensPlugin,
  type Principal,
  type RouteAuth,
} from './access-tokens/index.js';
export {
  type AuditEntry,
  AuditEntryError,
  AuditLog,
  type AuditOutcome,
  type AuditRouteOptions,
  type AuditVerification,
  auditPlugin,
} from './audit/index.js';
export {
  addConfigFormat,
  type ConfigChange,
  type ConfigChangeListener,
  type ConfigEntry,
  ConfigError,
  type ConfigLeaf,
  type ConfigPath,
  type ConfigReload,
  type ConfigSchema,
  type ConfigValue,
  type ConfigViolation,
  type InferConfig,
  type ReloadOptions,
  type RuntimeLayer,
  type ServiceConfig,
} from './config/index.js';
export {
  type AnyPlugin,
  type CoreConfig,
  definePlugin,
  type ErrorChannel,
  type ErrorContext,
  type ErrorListener,
  type ErrorSource,
  type LifecycleHook,
  type LifecycleState,
  type Plugin,
  PluginError,
  type ServiceCapabilities,
  type ServiceContext,
  SHUTDOWN_PHASES,
  type ShutdownOverrides,
  type ShutdownPhase,
  type StopHookOptions,
  shutdownBudgetMs,
} from './core/index.js';
export {
  type BuiltInConfig,
  type CreateServiceOptions,
  createService,
  type Service,
} from './create-service.js';
export {
  type Database,
  type Migration,
  type Queryable,
  type QueryResult,
  ServiceDatabase,
  type Transaction,
} from './database/index.js';
export { dynamicConfigPlugin, type ReloadOrigin } from './dynamic-config/index.js';
export {
  createExceptionsPlugin,
  type ExceptionEvent,
  type ExceptionReporter,
  type ExceptionsPluginOptions,
  type ExceptionTracking,
  exceptionsPlugin,
} from './exceptions/index.js';
export {
  type CheckResult,
  HEALTH_CONTENT_TYPE,
  type HealthIndicator,
  HealthRegistry,
  type HealthReport,
  type HealthStatus,
  type IndicatorResult,
} from './health/index.js';
export {
  type ApiOperation,
  type FieldError,
  type OpenApi,
  type OperationDescriber,
  type OperationDescription,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  ProblemError,
  type ProblemInit,
  type ProblemResponse,
  problem,
  type ResponseHeader,
} from './http/index.js';
export { infoPlugin, type ServiceInfo } from './info/index.js';
export {
  type LoadSheddingSettings,
  loadSheddingConfigSchema,
  loadSheddingPlugin,
} from './load-shedding/index.js';
export { DEFAULT_REDACT_PATHS, type LogMixin } from './logging/index.js';
export {
  type ConsumeOptions,
  DEAD_LETTER_HEADERS,
  type HandlerContext,
  type IncomingMessage,
  InProcessBroker,
  InProcessTransport,
  type MessageHandler,
  Messaging,
  type OutgoingMessage,
  type Transport,
  type TransportMessage,
  UnroutableError,
  type WithoutMessageId,
} from './messaging/index.js';
export { type FastHistogram, type InfoMetric, ServiceMetrics, UNMATCHED_ROUTE } from './metrics/index.js';
export { Outbox } from './outbox/index.js';
export {
  type RateLimitPluginOptions,
  type RateLimitSettings,
  type RateLimitStore,
  type RateLimitStoreConstructor,
  rateLimitConfigSchema,
  rateLimitPlugin,
} from './rate-limit/index.js';
export {
  Discovery,
  type InstanceState,
  type ListInstancesOptions,
  listRegisteredInstances,
  type Registry,
  type ServiceInstance,
} from './registry/index.js';
export {
  BulkheadFullError,
  CircuitOpenError,
  type ClientDefaults,
  ConnectionError,
  type Endpoint,
  type EndpointResolver,
  type HttpCallOptions,
  HttpClient,
  HttpClientError,
  type HttpClientErrorKind,
  type HttpClients,
  type HttpHeaders,
  type HttpResponse,
  HttpStatusError,
  type RequestHeadersHook,
  TimeoutError,
} from './resilience/index.js';
export {
  extractTraceContext,
  type HeaderCarrier,
  injectTraceContext,
  type Tracing,
} from './tracing/index.js';
