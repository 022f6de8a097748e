import { type FastifyInstance, fastify, LogController } from 'fastify';
import { definePlugin } from '../core/index.js';
import { installAccessLog } from './access-log.js';
import { httpConfigSchema } from './config-schema.js';
import { installProblemHandlers } from './error-handler.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { registerOpenApi } from './openapi.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** The service's fastify instance: add routes, hooks and fastify plugins here. */
    http: FastifyInstance;
  }
}

/** `""` → off, `"true"` → all, `"2"` → hops, anything else → a list of addresses or CIDRs. */
function parseTrustProxy(value: string): boolean | string {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  // fastify takes a hop count as a number; its types only admit strings.
  if (/^\d+$/.test(value)) return Number(value) as unknown as string;
  return value;
}

/** The HTTP server: fastify with request ids, problem+json errors and the OpenAPI document. */
export const httpPlugin = definePlugin({
  name: 'http',
  config: httpConfigSchema,
  async register(ctx) {
    const config = ctx.config;
    const app = fastify({
      // No logger for fastify itself: with one, it adds per-response listeners to every request.
      // Request loggers still come from the service logger, through the child logger factory.
      logger: false,
      childLoggerFactory: (_nullLogger, bindings, options) => lazyChildLogger(ctx.log, bindings, options),
      genReqId: requestIdFor,
      logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
      bodyLimit: config.get('http.bodyLimit'),
      requestTimeout: config.get('http.requestTimeoutMs'),
      keepAliveTimeout: config.get('http.keepAliveTimeoutMs'),
      trustProxy: parseTrustProxy(config.get('http.trustProxy')),
      // Idle keep-alive sockets close at shutdown; busy ones finish their request first.
      forceCloseConnections: 'idle',
      // Requests still arriving on kept-alive sockets during the drain are served (with
      // `connection: close`), not refused with a bare 503: readiness already turned the traffic away.
      return503OnClosing: false,
      // Report every failing field, not just the first.
      ajv: { customOptions: { allErrors: true } },
    }) as unknown as FastifyInstance;

    // onSend, not onRequest or onResponse: it runs for every reply (errors and 404s included) and
    // costs the least of fastify's hooks on the hot path.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done(null, payload);
    });
    if (config.get('http.accessLog')) installAccessLog(app);
    // Fail closed: internals appear only when the environment was set to development on purpose.
    const envOrigin = config.explain().find((entry) => entry.key === 'env')?.origin;
    installProblemHandlers(app, {
      exposeInternals: ctx.env === 'development' && envOrigin !== 'default',
      errors: ctx.errors,
    });
    if (config.get('http.docs.enabled'))
      await registerOpenApi(app, { title: ctx.name, version: ctx.version });

    ctx.provide('http', app);
    ctx.onStart(async () => {
      const url = await app.listen({ host: config.get('http.host'), port: config.get('http.port') });
      ctx.log.info({ url }, 'Server listening at %s', url);
    });
    ctx.onStop(() => app.close(), { phase: 'http' });
  },
});
