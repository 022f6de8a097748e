import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { accessTokensPlugin } from './access-tokens/index.js';
import { auditPlugin } from './audit/index.js';
import {
  ConfigError,
  type ConfigSchema,
  composeSchema,
  type Environment,
  type InferConfig,
  loadConfig,
  type SchemaFragment,
  type ServiceConfig,
} from './config/index.js';
import {
  type AnyPlugin,
  type CoreConfig,
  coreConfigSchema,
  manageProcess,
  orderPlugins,
  type Plugin,
  type ServiceContext,
  ServiceHost,
  type ShutdownSettings,
} from './core/index.js';
import { databasePlugin } from './database/index.js';
import { dynamicConfigPlugin } from './dynamic-config/index.js';
import { exceptionsPlugin } from './exceptions/index.js';
import { healthPlugin } from './health/index.js';
import { httpPlugin } from './http/index.js';
import { infoPlugin } from './info/index.js';
import { loadSheddingPlugin } from './load-shedding/index.js';
import {
  createLogger,
  type LogMixin,
  loggingConfigSchema,
  queryRedactor,
  sensitiveValues,
} from './logging/index.js';
import { messagingPlugin } from './messaging/index.js';
import { metricsPlugin } from './metrics/index.js';
import { outboxPlugin } from './outbox/index.js';
import { rateLimitPlugin } from './rate-limit/index.js';
import { registryPlugin } from './registry/index.js';
import { type ClientDefaults, clientsPlugin } from './resilience/index.js';
import { tracingPlugin } from './tracing/index.js';

declare module './core/service-context.js' {
  interface ServiceCapabilities {
    /**
     * The service logger's extension points: `ctx.logging.addMixin(() => ({ trace_id }))`, and
     * `redactUrl(url)`, which replaces credentials in a URL's query (`log.redactQueryParams`) before
     * the URL is logged or recorded in a span.
     */
    logging: { addMixin(mixin: LogMixin): void; redactUrl(url: string): string };
    /** Names of the registered plugins, in registration order. */
    plugins: readonly string[];
  }
}

/**
 * The plugins every service gets (the clients plugin too); a service's own plugins come after them.
 * The official plugins among them (load shedding, rate limiting, access tokens, audit, exceptions,
 * dynamic config) do nothing until their `<key>.enabled` is set.
 */
function builtInPlugins(clients: CreateServiceOptions<ConfigSchema>['clients']): AnyPlugin[] {
  return [
    httpPlugin,
    tracingPlugin,
    metricsPlugin,
    healthPlugin,
    infoPlugin,
    dynamicConfigPlugin,
    loadSheddingPlugin,
    rateLimitPlugin(),
    clientsPlugin(clients),
    accessTokensPlugin,
    registryPlugin,
    databasePlugin,
    messagingPlugin,
    outboxPlugin,
    auditPlugin,
    exceptionsPlugin,
  ];
}

/** Config keys of the runtime and the built-in plugins. */
export type BuiltInConfig = CoreConfig &
  InferConfig<typeof loggingConfigSchema> &
  InferConfig<typeof httpPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof tracingPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof metricsPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof healthPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof registryPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof databasePlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof messagingPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof outboxPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof infoPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof dynamicConfigPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof loadSheddingPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<ReturnType<typeof rateLimitPlugin> extends Plugin<infer S> ? S : never> &
  InferConfig<typeof accessTokensPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof auditPlugin extends Plugin<infer S> ? S : never> &
  InferConfig<typeof exceptionsPlugin extends Plugin<infer S> ? S : never>;

export interface CreateServiceOptions<S extends ConfigSchema> {
  /** Service name: in logs, metrics, health, OpenAPI, and (later) the registry. */
  name: string;
  /** Default of `service.version`. */
  version?: string;
  /** The service's own config keys (convict schema; every key needs a `doc`). */
  config?: S;
  /**
   * The downstreams this service calls, with defaults set in code: each gets the config keys
   * `clients.<name>.*` (base URL, timeouts, retry, breaker, bulkhead) for `svc.clients.http(name)`.
   */
  clients?: Readonly<Record<string, ClientDefaults>>;
  /** Plugins beyond the built-in ones (HTTP, tracing, metrics, health, clients, registry, database, messaging, outbox). */
  plugins?: readonly AnyPlugin[];
  /** Where `default.json`, `<NODE_ENV>.json` and `local.json` live; `./config` by default. */
  configDir?: string;
  /** Environment variables; `process.env` by default. */
  env?: Environment;
  /** Command-line arguments; `process.argv.slice(2)` by default. */
  argv?: readonly string[];
  /** Values set in code: above the config files, below env and flags. */
  overrides?: Record<string, unknown>;
  /** Install SIGTERM/SIGINT and fatal-error handlers while the service runs; true by default. */
  handleProcess?: boolean;
  /** Where log lines go; stdout by default. */
  logDestination?: DestinationStream | Writable;
}

/** A running (or runnable) service: its context plus start and stop. */
export interface Service<C = BuiltInConfig> extends ServiceContext<C> {
  /** Starts every plugin in order; resolves once READY. */
  start(): Promise<void>;
  /** Ordered, bounded shutdown; idempotent. Resolves true when every phase finished in time. */
  stop(reason?: string): Promise<boolean>;
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/**
 * Builds a service: composes the config schema of the runtime, the built-in and the given plugins
 * and the service, loads and validates it (a {@link ConfigError} lists every problem before
 * anything listens: thrown, or printed with exit code 78 when the service handles its process), creates the logger, and registers every plugin.
 */
export async function createService<const S extends ConfigSchema = {}>(
  options: CreateServiceOptions<S>,
): Promise<Service<BuiltInConfig & InferConfig<S>>> {
  if (!SERVICE_NAME.test(options.name ?? '')) {
    throw new TypeError(
      `Invalid service name "${options.name}": letters, digits, ".", "_" and "-", at most 63`,
    );
  }
  // A service's own plugin of a built-in's name (a configured instance of it) takes its place.
  const own = new Set((options.plugins ?? []).map((p) => p.name));
  const plugins = orderPlugins([
    ...builtInPlugins(options.clients).filter((p) => !own.has(p.name)),
    ...(options.plugins ?? []),
  ]);
  const env = options.env ?? process.env;
  const handleProcess = options.handleProcess ?? true;
  const core = withVersionDefault(coreConfigSchema, options.version);
  const fragments: SchemaFragment[] = [
    { owner: 'core', schema: core },
    { owner: 'logging', schema: loggingConfigSchema },
    ...plugins.flatMap((p) => (p.config ? [{ owner: p.name, schema: p.config }] : [])),
    ...(options.config ? [{ owner: 'service', schema: options.config as ConfigSchema }] : []),
  ];

  type C = BuiltInConfig & InferConfig<S>;
  let config: ServiceConfig<C>;
  try {
    config = loadConfig<C>({
      schema: composeSchema(fragments),
      configDir: options.configDir ?? `${process.cwd()}/config`,
      env,
      argv: options.argv ?? process.argv.slice(2),
      ...(options.overrides ? { overrides: options.overrides } : {}),
    });
  } catch (error) {
    stopOnConfigError(error, options.name, handleProcess);
  }
  const builtIn = config as unknown as { get(path: string): unknown };
  const version = builtIn.get('service.version') as string;
  const instanceId =
    (builtIn.get('service.instanceId') as string) ||
    `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const serviceEnv = builtIn.get('env') as string;

  const level = builtIn.get('log.level') as string;
  const prettySetting = builtIn.get('log.pretty') as string;
  const { logger, addMixin, setSecrets } = createLogger({
    level,
    pretty:
      prettySetting === 'on' ||
      (prettySetting === 'auto' &&
        serviceEnv === 'development' &&
        !options.logDestination &&
        process.stdout.isTTY),
    redact: builtIn.get('log.redact') as string[],
    base: { service: options.name, version, instance: instanceId },
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });

  const secrets = () =>
    sensitiveValues({ explain: () => config.explain(), get: (path) => builtIn.get(path) });
  setSecrets(secrets());

  const host = new ServiceHost<C>({
    name: options.name,
    version,
    instanceId,
    env: serviceEnv,
    config,
    logger,
    shutdown: builtIn.get('shutdown') as ShutdownSettings,
  });
  host.context.provide('logging', {
    addMixin,
    redactUrl: queryRedactor(builtIn.get('log.redactQueryParams') as string[]),
  });
  host.context.provide('plugins', Object.freeze(plugins.map((p) => p.name)));
  try {
    await host.register(plugins);
  } catch (error) {
    // A plugin's checks across its keys fail as a ConfigError too: the same answer as for the files.
    const cause = (error as { cause?: unknown }).cause;
    stopOnConfigError(cause instanceof ConfigError ? cause : error, options.name, handleProcess);
  }
  // The logger follows a reloaded `log.level`: every child without a level of its own reads it here.
  config.onChange((changes) => {
    setSecrets(secrets());
    for (const change of changes) if (change.key === 'log.level') logger.level = change.to as string;
  });
  logger.debug({ config: config.redacted() }, 'configuration loaded');

  let release: (() => void) | undefined;
  const service = host.context as Service<C>;
  Object.defineProperties(service, {
    start: {
      value: async () => {
        if (handleProcess && !release)
          release = manageProcess({
            name: options.name,
            log: logger,
            shutdownBoundMs: host.shutdownBoundMs,
            stop: (r) => host.stop(r),
          });
        try {
          await host.start();
        } catch (error) {
          // A capability that finds a configuration problem only at start (it depends on what the
          // service registered) fails like an invalid file: the list, and exit 78.
          stopOnConfigError(error, options.name, handleProcess);
        }
      },
    },
    stop: {
      value: async (reason?: string) => {
        try {
          return await host.stop(reason);
        } finally {
          release?.();
        }
      },
    },
  });
  return service;
}

/** The core schema with the code-given version as the default of `service.version`. */
function withVersionDefault(schema: typeof coreConfigSchema, version: string | undefined): ConfigSchema {
  if (version === undefined) return schema;
  return {
    ...schema,
    service: { ...schema.service, version: { ...schema.service.version, default: version } },
  };
}

/**
 * Rethrows; but a service that owns its process stops on a ConfigError with the list and nothing
 * else: exit code 78 (EX_CONFIG) tells an orchestrator the configuration is wrong, not the code.
 */
function stopOnConfigError(error: unknown, name: string, handleProcess: boolean): never {
  if (handleProcess && error instanceof ConfigError) {
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
