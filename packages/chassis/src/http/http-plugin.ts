import type { IncomingMessage } from 'node:http';
import { type FastifyInstance, fastify, LogController } from 'fastify';
import { definePlugin } from '../core/index.js';
import { installAccessLog } from './access-log.js';
import { httpConfigSchema } from './config-schema.js';
import { installProblemHandlers } from './error-handler.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { createNodeServer, type NodeServer } from './node-server.js';
import { registerOpenApi } from './openapi.js';
import type { OpenApi } from './openapi-operations.js';
import { readPackageMetadata } from './package-metadata.js';
import { clientErrorHandler, frameworkErrorHandler, rejectionLog } from './rejected-requests.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** The service's fastify instance: add routes, hooks and fastify plugins here. */
    http: FastifyInstance;
    /** The OpenAPI document: `ctx.openapi.describeOperations(...)`, `await ctx.openapi.document()`. */
    openapi: OpenApi;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Calls `listener` with the status of every request answered before fastify saw it (what Node's
     * parser refuses: malformed HTTP, oversized headers, timeouts), which no hook ever sees.
     */
    onRejectedRequest(listener: (statusCode: number) => void): void;
  }
  interface FastifyContextConfig {
    /**
     * An operational route (probes, scrapes, docs) rather than part of the API its clients call:
     * in the OpenAPI document only when `http.docs.operationalRoutes` is "describe".
     */
    operational?: boolean;
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

/** Whether a request announced a body that has not been read to its end yet. */
function bodyUnread(raw: IncomingMessage): boolean {
  if (raw.complete) return false;
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

/** The HTTP server: fastify with request ids, problem+json errors and the OpenAPI document. */
export const httpPlugin = definePlugin({
  name: 'http',
  config: httpConfigSchema,
  async register(ctx) {
    const config = ctx.config;
    const handlerTimeoutMs = config.get('http.handlerTimeoutMs');
    let node: NodeServer | undefined;
    const logRejection = rejectionLog(ctx.log);
    const app = fastify({
      // No logger for fastify itself: with one, it adds per-response listeners to every request.
      // Request loggers still come from the service logger, through the child logger factory.
      logger: false,
      childLoggerFactory: (_nullLogger, bindings, options) => lazyChildLogger(ctx.log, bindings, options),
      genReqId: requestIdFor,
      logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
      serverFactory: (handler) => {
        node = createNodeServer(
          {
            requestTimeoutMs: config.get('http.requestTimeoutMs'),
            headersTimeoutMs: config.get('http.headersTimeoutMs'),
            keepAliveTimeoutMs: config.get('http.keepAliveTimeoutMs'),
            maxConnections: config.get('http.maxConnections'),
          },
          logRejection,
          handler,
        );
        return node.server;
      },
      clientErrorHandler: (error, socket) => clientError(error, socket),
      frameworkErrors: frameworkErrorHandler(logRejection),
      bodyLimit: config.get('http.bodyLimit'),
      ...(handlerTimeoutMs > 0 ? { handlerTimeout: handlerTimeoutMs } : {}),
      trustProxy: parseTrustProxy(config.get('http.trustProxy')),
      // Connections are drained by ConnectionDrain, which never closes one a client may be using.
      forceCloseConnections: false,
      // Requests still arriving on kept-alive sockets during the drain are served (with
      // `connection: close`), not refused with a bare 503: readiness already turned the traffic away.
      return503OnClosing: false,
      // Report every failing field, not just the first.
      ajv: { customOptions: { allErrors: true } },
    }) as unknown as FastifyInstance;
    const { drain } = node as NodeServer;
    const rejectedListeners: ((statusCode: number) => void)[] = [];
    app.decorate('onRejectedRequest', (listener: (statusCode: number) => void) => {
      rejectedListeners.push(listener);
    });
    const clientError = clientErrorHandler(logRejection, (statusCode) => {
      for (const listener of rejectedListeners) listener(statusCode);
    });

    // onSend, not onRequest or onResponse: it runs for every reply (errors and 404s included) and
    // costs the least of fastify's hooks on the hot path.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      // A response sent before the request was read to its end (a handler timeout, an early
      // error) closes the connection: what is left of the request must not be read as the next one.
      if (drain.closeConnection() || bodyUnread(request.raw)) reply.header('connection', 'close');
      done(null, payload);
    });
    if (config.get('http.accessLog')) installAccessLog(app, ctx.logging.redactUrl);
    // Fail closed: internals appear only when the environment was set to development on purpose.
    const envOrigin = config.explain().find((entry) => entry.key === 'env')?.origin;
    installProblemHandlers(app, {
      exposeInternals: ctx.env === 'development' && envOrigin !== 'default',
      errors: ctx.errors,
    });
    const openapi = await registerOpenApi(app, {
      title: ctx.name,
      version: ctx.version,
      package: readPackageMetadata(config.configDir),
      servers: config.get('http.docs.servers'),
      operationalRoutes: config.get('http.docs.operationalRoutes'),
      serve: config.get('http.docs.enabled'),
      bodyLimit: config.get('http.bodyLimit'),
      handlerTimeoutMs,
    });

    ctx.provide('http', app);
    ctx.provide('openapi', openapi);
    ctx.lifecycle.onTransition((to) => {
      if (to === 'DRAINING') drain.startClosing();
    });
    ctx.onStart(async () => {
      const url = await app.listen({ host: config.get('http.host'), port: config.get('http.port') });
      ctx.log.info({ url }, 'Server listening at %s', url);
    });
    ctx.onStop(
      async () => {
        // Leave a tenth of the phase for fastify's own onClose hooks.
        const boundMs = Math.max(0, ctx.config.get('shutdown.timeouts.http') * 0.9);
        const connections = drain.connections;
        const clean = await drain.drain(config.get('http.drainIdleGraceMs'), boundMs);
        if (!clean) ctx.log.warn({ boundMs }, 'connections still open after %d ms were closed', boundMs);
        else if (connections > 0) ctx.log.info({ connections }, 'connections drained');
        await app.close();
      },
      { phase: 'http' },
    );
  },
});
