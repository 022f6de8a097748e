import type { FastifyInstance } from 'fastify';

/**
 * One line per completed request: method, route template, URL (credentials in the query redacted),
 * status and duration, with the request id. Off by default (`http.accessLog`): the `onResponse`
 * hook it needs makes fastify add listeners to every response.
 */
export function installAccessLog(app: FastifyInstance, redactUrl: (url: string) => string): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
    done();
  });
}
