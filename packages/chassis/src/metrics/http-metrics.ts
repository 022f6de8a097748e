import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from './service-metrics.js';

/** The `route` label of requests that matched no route: raw URLs would explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The `method` label of methods outside the standard set, as the OpenTelemetry conventions say. */
const OTHER_METHOD = '_OTHER';

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

const STARTED = Symbol('keelson.request.started');
const ROUTE = Symbol('keelson.request.route');

interface MeasuredResponse extends ServerResponse {
  [STARTED]: number;
  [ROUTE]?: string;
}

/**
 * RED metrics for the HTTP server: `http_server_request_duration_seconds{method,route,status_code}`
 * and `http_server_active_requests`. A request is measured on the raw server, from the moment Node
 * has read its head to the moment its response has been handed to the socket (`close` of the
 * response), so every response counts (framework errors, timeouts and aborted requests included)
 * whatever hooks or loggers are configured. The route template is noted in `onSend`. Requests that
 * Node's parser rejects before a request exists are counted through `onRejectedRequest`, with a
 * duration of 0 (there is no request start to measure from).
 */
export function instrumentHttpServer(app: FastifyInstance, metrics: ServiceMetrics): void {
  const duration = metrics.fastHistogram<'method' | 'route' | 'status_code'>({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, by method, route template and status code.',
    buckets: DURATION_BUCKETS,
  });
  const observe = (method: string, route: string, status: number, seconds: number) =>
    duration.observe(
      `${method} ${status} ${route}`,
      () => ({ method, route, status_code: String(status) }),
      seconds,
    );

  let active = 0;
  metrics.gauge({
    name: 'http_server_active_requests',
    help: 'HTTP server requests in flight.',
    collect() {
      this.set(active);
    },
  });

  // One shared listener, called with the response as `this`: no closure per request.
  function onClose(this: MeasuredResponse) {
    active--;
    // A client that went away before any answer was written has no status to report.
    if (!this.headersSent) return;
    const method = this.req.method ?? OTHER_METHOD;
    observe(
      KNOWN_METHODS.has(method) ? method : OTHER_METHOD,
      this[ROUTE] ?? UNMATCHED_ROUTE,
      this.statusCode,
      (performance.now() - this[STARTED]) / 1000,
    );
  }
  app.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    active++;
    (res as MeasuredResponse)[STARTED] = performance.now();
    res.on('close', onClose);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined) (reply.raw as MeasuredResponse)[ROUTE] = route;
    done(null, payload);
  });

  app.onRejectedRequest((status) => observe(OTHER_METHOD, UNMATCHED_ROUTE, status, 0));
}
