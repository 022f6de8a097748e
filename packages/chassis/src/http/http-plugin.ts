import { type FastifyInstance, fastify } from 'fastify';
import { definePlugin } from '../core/index.js';
import { AccessLogController } from './access-log.js';
import { httpConfigSchema } from './config-schema.js';
import { installProblemHandlers } from './error-handler.js';
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
      loggerInstance: ctx.log,
      genReqId: requestIdFor,
      logController: new AccessLogController(config.get('http.accessLog')),
      bodyLimit: config.get('http.bodyLimit'),
      requestTimeout: config.get('http.requestTimeoutMs'),
      keepAliveTimeout: config.get('http.keepAliveTimeoutMs'),
      trustProxy: parseTrustProxy(config.get('http.trustProxy')),
      // Idle keep-alive sockets close at shutdown; busy ones finish their request first.
      forceCloseConnections: 'idle',
      // Report every failing field, not just the first.
      ajv: { customOptions: { allErrors: true } },
    }) as unknown as FastifyInstance;

    app.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    installProblemHandlers(app, { exposeInternals: ctx.env === 'development' });
    if (config.get('http.docs.enabled'))
      await registerOpenApi(app, { title: ctx.name, version: ctx.version });

    ctx.provide('http', app);
    ctx.onStart(async () => {
      await app.listen({ host: config.get('http.host'), port: config.get('http.port') });
    });
    ctx.onStop(() => app.close(), { phase: 'http' });
  },
});
