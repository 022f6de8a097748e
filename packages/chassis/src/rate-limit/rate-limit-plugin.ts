import fastifyRateLimit from '@fastify/rate-limit';
import type { RouteOptions } from 'fastify';
import { definePlugin, type Plugin, type ServiceContext } from '../core/index.js';
import { UNMATCHED_ROUTE } from '../metrics/index.js';
import { createAllowList } from './allow-list.js';
import { clientKeyGenerator } from './client-key.js';
import { rateLimitConfigSchema } from './config-schema.js';
import { failOpenStore, type RateLimitStoreConstructor, type StoreHealth } from './fail-open-store.js';
import { describeRateLimit } from './openapi-description.js';
import { checkRouteLimit } from './route-limit.js';

export interface RateLimitPluginOptions {
  /**
   * Where the counts live. Omitted: in this process, so each instance counts on its own. A
   * shared store (Redis, a database) makes the limit hold across instances; when it fails,
   * requests pass unlimited (and `http_rate_limit_store_errors_total` counts it).
   */
  store?: RateLimitStoreConstructor;
}

/** What the limiter throws; the problem+json error handler turns it into the 429 body. */
class RateLimitExceededError extends Error {
  override readonly name = 'RateLimitExceededError';
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

/**
 * Per-client rate limiting on @fastify/rate-limit (`rateLimit.*`, off by default): a request over
 * the limit gets 429 as problem+json with `Retry-After` and the IETF draft `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` headers, before its body is read and after the
 * global `onRequest` hooks (authentication, which sets the subject of `key=subject`). A route sets
 * its own limit with `config: { rateLimit: { max, timeWindow } }` or opts out with
 * `rateLimit: false`; health and metrics endpoints are never limited.
 */
export function rateLimitPlugin(options: RateLimitPluginOptions = {}): Plugin<typeof rateLimitConfigSchema> {
  return definePlugin({
    name: 'rate-limit',
    dependencies: ['http', 'metrics'],
    config: rateLimitConfigSchema,
    async register(ctx) {
      const settings = ctx.config.get('rateLimit');
      if (!settings.enabled) return;
      const metricsPath = (ctx.config as unknown as { get(path: string): unknown }).get('metrics.path');
      // Probes and scrapes must answer however busy a client is: an orchestrator that cannot
      // probe restarts a healthy instance.
      const exempt = (url: string) => url.startsWith('/health/') || url === metricsPath;

      const limited = ctx.metrics.counter({
        name: 'http_rate_limited_total',
        help: 'Requests refused with 429 by the rate limiter, by route template.',
        labelNames: ['route'],
      });
      const allowed = createAllowList(settings.allowList);
      const keyGenerator = clientKeyGenerator(settings.key, settings.keyHeader);

      // Before the package's own onRoute hook, which reads `config.rateLimit` of each new route;
      // like it, sees only the routes added from here on.
      const limitedRoutes = new WeakSet<RouteOptions>();
      ctx.http.addHook('onRoute', (route) => {
        if (exempt(route.url)) route.config = { ...route.config, rateLimit: false };
        else checkRouteLimit(route);
        if (route.config?.rateLimit !== false) limitedRoutes.add(route);
      });
      ctx.openapi.describeOperations(
        describeRateLimit(limitedRoutes, {
          max: settings.max,
          windowMs: settings.windowMs,
          client: settings.key === 'header' ? settings.keyHeader : settings.key,
        }),
      );
      await ctx.http.register(fastifyRateLimit, {
        global: true,
        max: settings.max,
        timeWindow: settings.windowMs,
        // Before the body is read. The package adds its hook to each route, and a route's hooks run
        // after the global ones: authentication (which sets the subject) has run by then.
        hook: 'onRequest',
        cache: settings.cacheSize,
        ...(keyGenerator ? { keyGenerator } : {}),
        ...(allowed ? { allowList: (request) => allowed(request.ip) } : {}),
        enableDraftSpec: true,
        ...(options.store ? { store: failOpenStore(options.store, storeHealth(ctx)) } : {}),
        errorResponseBuilder: (_request, context) =>
          new RateLimitExceededError(
            context.statusCode,
            // Seconds, as in Retry-After: the package's own wording says "1 minute" for 31 s.
            `Rate limit of ${context.max} requests per window exceeded; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s.`,
          ),
        onExceeded: (request) => limited.inc({ route: request.routeOptions.url ?? UNMATCHED_ROUTE }),
      });
      ctx.log.info(
        {
          max: settings.max,
          windowMs: settings.windowMs,
          key: settings.key,
          store: options.store ? 'custom' : 'memory',
        },
        'rate limiting: %d requests per %d ms per %s',
        settings.max,
        settings.windowMs,
        settings.key === 'header' ? settings.keyHeader : settings.key,
      );
    },
  });
}

/** Counts store failures, and logs when the store starts and stops failing (not every failure). */
function storeHealth(ctx: Pick<ServiceContext, 'metrics' | 'log'>): StoreHealth {
  const errors = ctx.metrics.counter({
    name: 'http_rate_limit_store_errors_total',
    help: 'Rate-limit store calls that failed; each let its request through unlimited.',
  });
  let failing = false;
  return {
    failed(error) {
      errors.inc();
      if (failing) return;
      failing = true;
      ctx.log.warn({ err: error }, 'rate-limit store failed: requests pass unlimited until it answers again');
    },
    answered() {
      if (!failing) return;
      failing = false;
      ctx.log.info('rate-limit store answers again: limits apply');
    },
  };
}
