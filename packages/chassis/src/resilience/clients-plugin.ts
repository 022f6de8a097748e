import { CircuitState } from 'cockatiel';
import { definePlugin, type Plugin } from '../core/index.js';
import { CIRCUIT_STATE_VALUES, type ClientMetrics, createClientMetrics } from './client-metrics.js';
import { ClientPolicies } from './client-policies.js';
import {
  CLIENT_NAME,
  type ClientDefaults,
  type ClientSettings,
  clientConfigSchema,
} from './config-schema.js';
import type { EndpointResolver } from './endpoint-resolver.js';
import { HttpClient, type RequestHeadersHook } from './http-client.js';

/** The service's outgoing HTTP clients, one per downstream. */
export interface HttpClients {
  /**
   * The client of a downstream, created on first use. Declared clients (`createService({ clients })`)
   * take their settings from `clients.<name>.*`; others use the defaults and discovery.
   */
  http(name: string): HttpClient;
  /** Where clients without a fixed base URL find an instance; the service registry sets it. */
  setResolver(resolver: EndpointResolver): void;
  /**
   * Adds headers to every attempt of every client (credentials, tenant ids), run in the async
   * context of the call; a plugin passes on what the request being handled carries this way. Calls
   * to an absolute URL (a webhook, a third party) skip the hook unless `absoluteUrls` is true:
   * credentials meant for the client's downstream must not reach any URL a call names.
   */
  addRequestHeaders(hook: RequestHeadersHook, options?: { absoluteUrls?: boolean }): void;
}

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Resilient outgoing calls: `ctx.clients.http('inventory').get('/stock/42')`. */
    clients: HttpClients;
  }
}

const STATE_NAMES: Record<CircuitState, keyof typeof CIRCUIT_STATE_VALUES> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The plugin behind `ctx.clients`. `declared` names the downstreams whose settings live in config
 * (`clients.<name>.baseUrl`, `...timeoutMs`, ...), with defaults given in code.
 */
export function clientsPlugin(declared: Readonly<Record<string, ClientDefaults>> = {}): Plugin {
  for (const name of Object.keys(declared))
    if (!CLIENT_NAME.test(name))
      throw new TypeError(
        `Invalid client name "${name}": lower-case letters, digits and "-", starting with a letter`,
      );
  const schemas = Object.fromEntries(
    Object.entries(declared).map(([name, defaults]) => [name, clientConfigSchema(defaults)]),
  );
  const undeclaredDefaults = defaultsOf(clientConfigSchema());

  return definePlugin({
    name: 'clients',
    dependencies: ['metrics', 'health', 'tracing'],
    config: Object.keys(schemas).length > 0 ? { clients: schemas } : {},
    register(ctx) {
      const clients = new Map<string, HttpClient>();
      let resolver: EndpointResolver | undefined;
      const requestHeaders: RequestHeadersHook[] = [];
      let metrics: ClientMetrics | undefined;
      const config = ctx.config as unknown as { get(path: string): unknown };

      const create = (name: string): HttpClient => {
        const settings = (
          name in declared ? config.get(`clients.${name}`) : undeclaredDefaults
        ) as ClientSettings;
        metrics ??= createClientMetrics(ctx.metrics);
        const clientMetrics = metrics;
        const policies = new ClientPolicies(settings, (reason) =>
          clientMetrics.rejections.inc({ client: name, reason }),
        );
        clientMetrics.circuitState.set({ client: name }, CIRCUIT_STATE_VALUES.closed);
        policies.retry?.onRetry((event) => {
          clientMetrics.retries.inc({ client: name });
          const reason =
            'error' in event ? event.error.message : `HTTP ${(event.value as { status: number }).status}`;
          ctx.log.debug(
            { client: name, attempt: event.attempt, delayMs: event.delay, reason },
            'retrying call of client %s',
            name,
          );
        });
        const breaker = policies.breaker;
        if (breaker) {
          breaker.onStateChange((state) => {
            const label = STATE_NAMES[state];
            clientMetrics.circuitState.set({ client: name }, CIRCUIT_STATE_VALUES[label]);
            const log = state === CircuitState.Closed ? ctx.log.info : ctx.log.warn;
            log.call(ctx.log, { client: name, circuit: label }, 'circuit of client %s is %s', name, label);
          });
          ctx.health.add({
            name: `client:${name}`,
            critical: settings.breaker.critical,
            check: () =>
              breaker.state === CircuitState.Open || breaker.state === CircuitState.Isolated
                ? { status: 'fail', output: 'circuit open: calls fail fast' }
                : breaker.state === CircuitState.HalfOpen
                  ? { status: 'warn', output: 'circuit half-open: probing' }
                  : undefined,
          });
        }
        return new HttpClient({
          name,
          settings,
          policies,
          metrics: clientMetrics,
          tracing: ctx.tracing,
          resolver: () => resolver,
          requestHeaders,
          redactUrl: ctx.logging.redactUrl,
        });
      };

      ctx.provide('clients', {
        http(name) {
          let client = clients.get(name);
          if (!client) {
            if (!CLIENT_NAME.test(name)) throw new TypeError(`Invalid client name "${name}"`);
            client = create(name);
            clients.set(name, client);
          }
          return client;
        },
        setResolver(next) {
          resolver = next;
        },
        addRequestHeaders(hook, options) {
          requestHeaders.push(
            options?.absoluteUrls
              ? hook
              : (headers, call) => {
                  if (call.origin === undefined) hook(headers, call);
                },
          );
        },
      });
      ctx.onStop(async () => {
        await Promise.all([...clients.values()].map((c) => c.close()));
      });
    },
  });
}

/** The default values of a schema, as the object `config.get()` would return. */
function defaultsOf(schema: object): unknown {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema))
    out[key] =
      node && typeof node === 'object' && 'doc' in node
        ? (node as { default: unknown }).default
        : defaultsOf(node);
  return out;
}
