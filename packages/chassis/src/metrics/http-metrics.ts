import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from './service-metrics.js';

/** The `route` label of requests that matched no route: raw URLs would explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
]);

// Buckets recommended by the OpenTelemetry HTTP semantic conventions, in seconds.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * RED metrics for the HTTP server: `http_server_request_duration_seconds{method,route,status_code}`
 * and `http_server_active_requests`. Requests are counted in on the raw server and measured when
 * the response is handed to the socket (`onSend`): an `onResponse` hook would make fastify add
 * `finish` listeners to every response, which costs more than everything else here together.
 */
export function instrumentHttpServer(app: FastifyInstance, metrics: ServiceMetrics): void {
  const duration = metrics.fastHistogram<'method' | 'route' | 'status_code'>({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, by method, route template and status code.',
    buckets: DURATION_BUCKETS,
  });

  let active = 0;
  metrics.gauge({
    name: 'http_server_active_requests',
    help: 'HTTP server requests in flight.',
    collect() {
      this.set(active);
    },
  });

  app.server.prependListener('request', () => {
    active++;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    active--;
    const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    duration.observe(
      `${method} ${status} ${route}`,
      () => ({ method, route, status_code: String(status) }),
      reply.elapsedTime / 1000,
    );
    done(null, payload);
  });
}
