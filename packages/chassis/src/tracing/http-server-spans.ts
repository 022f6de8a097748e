import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { w3cPropagator } from './propagation.js';

const kTraceContext = Symbol('keelson.traceContext');

declare module 'fastify' {
  interface FastifyRequest {
    [kTraceContext]: Context | null;
  }
}

/**
 * A server span for every request, continuing the caller's trace from `traceparent`, `tracestate`
 * and `baggage`. The span's context is made active in `onRequest` and again in `preValidation`:
 * body parsing runs on socket events, outside the request's async context, so the handler would
 * otherwise lose it (the technique of `@fastify/request-context`).
 */
export function traceHttpServer(
  app: FastifyInstance,
  tracer: Tracer,
  recording: boolean,
  redactUrl: (url: string) => string,
): void {
  app.decorateRequest(kTraceContext, null);

  app.addHook('onRequest', (request, _reply, done) => {
    const headers = request.headers;
    const parent =
      headers.traceparent === undefined && headers.baggage === undefined
        ? ROOT_CONTEXT
        : w3cPropagator.extract(ROOT_CONTEXT, headers);
    const span = tracer.startSpan(request.method, { kind: SpanKind.SERVER }, parent);
    if (recording && span.isRecording()) span.setAttributes(requestAttributes(request, redactUrl));
    const ctx = trace.setSpan(parent, span);
    request[kTraceContext] = ctx;
    context.with(ctx, done);
  });

  app.addHook('preValidation', (request, _reply, done) => {
    const ctx = request[kTraceContext];
    if (ctx) context.with(ctx, done);
    else done();
  });

  // Spans that record nothing need no ending: the hooks below exist only when spans are exported.
  if (!recording) return;
  app.addHook('onError', (request, _reply, error, done) => {
    const span = spanOf(request);
    if (span?.isRecording()) span.recordException(error);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spanOf(request);
    if (span?.isRecording()) {
      const route = request.routeOptions.url;
      const status = reply.statusCode;
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span?.end();
    done();
  });
}

function spanOf(request: FastifyRequest): Span | undefined {
  const ctx = request[kTraceContext];
  return ctx ? trace.getSpan(ctx) : undefined;
}

/** The OpenTelemetry HTTP semantic-convention attributes known when the request arrives. */
function requestAttributes(request: FastifyRequest, redactUrl: (url: string) => string): Attributes {
  const raw = request.raw;
  const url = request.url;
  const query = url.indexOf('?');
  const attributes: Attributes = {
    'http.request.method': request.method,
    'url.path': query === -1 ? url : url.slice(0, query),
    'url.scheme': request.protocol,
    'network.protocol.version': raw.httpVersion,
    'client.address': request.ip,
  };
  // Credentials in the query (an access_token, an api_key) never reach an exported span.
  if (query !== -1) attributes['url.query'] = redactUrl(url).slice(query + 1);
  const host = request.hostname;
  if (host) attributes['server.address'] = host;
  const port = request.port;
  if (port) attributes['server.port'] = port;
  const agent = request.headers['user-agent'];
  if (agent) attributes['user_agent.original'] = agent;
  return attributes;
}
