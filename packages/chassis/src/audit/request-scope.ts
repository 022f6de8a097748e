import { AsyncLocalStorage } from 'node:async_hooks';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const kTraceId = Symbol('keelson.audit.traceId');

declare module 'fastify' {
  interface FastifyRequest {
    [kTraceId]: string | null;
  }
}

/** Who and what a record made now belongs to: the request being handled, if any. */
export interface RequestIdentity {
  requestId: string | null;
  subject: string | null;
  traceId: string | null;
}

/**
 * Knows the request being handled wherever `svc.audit.record` is called from, through an
 * AsyncLocalStorage entered in `onRequest` and again in `preValidation` (body parsing runs on socket
 * events, outside the request's async context). Only the request is kept: its principal is read
 * when a record is made, since an authentication hook may set it after this one ran.
 */
export class RequestScope {
  readonly #storage = new AsyncLocalStorage<FastifyRequest>();

  install(app: FastifyInstance): void {
    app.decorateRequest(kTraceId, null);
    app.addHook('onRequest', (request, _reply, done) => {
      // The tracing plugin's onRequest ran first: its server span is the active one here.
      request[kTraceId] = activeTraceId();
      this.#storage.run(request, done);
    });
    app.addHook('preValidation', (request, _reply, done) => {
      this.#storage.run(request, done);
    });
  }

  /** The identity of the current request; only the trace id outside of one. */
  current(): RequestIdentity {
    const request = this.#storage.getStore();
    if (!request) return { requestId: null, subject: null, traceId: activeTraceId() };
    return {
      requestId: request.id,
      subject: principalSubject(request),
      traceId: activeTraceId() ?? request[kTraceId],
    };
  }
}

/** The identity of a request, for records made after its response (the active context is gone). */
export function identityOf(request: FastifyRequest): RequestIdentity {
  // None kept when a hook before this plugin's answered (a refused token, say): the context active
  // as the response ends is then the best there is.
  return {
    requestId: request.id,
    subject: principalSubject(request),
    traceId: request[kTraceId] ?? activeTraceId(),
  };
}

/**
 * `request.principal.subject`, as an authentication plugin (access tokens) sets it. Read by shape,
 * not by type: the audit log works with any plugin that follows the convention, and without one.
 */
function principalSubject(request: FastifyRequest): string | null {
  const principal = (request as { principal?: unknown }).principal;
  if (principal === null || typeof principal !== 'object') return null;
  const subject = (principal as { subject?: unknown }).subject;
  return typeof subject === 'string' && subject !== '' ? subject : null;
}

function activeTraceId(): string | null {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? span.traceId : null;
}
