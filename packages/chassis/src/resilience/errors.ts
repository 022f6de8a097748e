/** The call an error is about; `idempotent` decides whether its attempts may be repeated. */
export interface HttpCall {
  client: string;
  method: string;
  path: string;
  idempotent: boolean;
}

/** What went wrong with an outgoing call: `err.kind` tells callers the cases apart. */
export type HttpClientErrorKind = 'status' | 'timeout' | 'circuit-open' | 'bulkhead-full' | 'connection';

/** Base class of every error the chassis HTTP client rejects with. */
export class HttpClientError extends Error {
  readonly kind: HttpClientErrorKind;
  /** The client (downstream) name. */
  readonly client: string;
  readonly method: string;
  readonly path: string;

  constructor(
    kind: HttpClientErrorKind,
    message: string,
    call: Omit<HttpCall, 'idempotent'>,
    options?: ErrorOptions,
  ) {
    super(`${call.client}: ${call.method} ${call.path}: ${message}`, options);
    this.name = new.target.name;
    this.kind = kind;
    this.client = call.client;
    this.method = call.method;
    this.path = call.path;
  }
}

/** The downstream answered with a status of 400 or more (after any retries). */
export class HttpStatusError extends HttpClientError {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The response body: parsed JSON (a problem+json object, often), text, or undefined. */
  readonly body: unknown;

  constructor(
    call: Omit<HttpCall, 'idempotent'>,
    response: { status: number; headers: Record<string, string | string[] | undefined>; body: unknown },
  ) {
    super('status', `HTTP ${response.status}`, call);
    this.status = response.status;
    this.headers = response.headers;
    this.body = response.body;
  }
}

/** The attempt (`attemptTimeoutMs`) or the whole call (`timeoutMs`) ran out of time. */
export class TimeoutError extends HttpClientError {
  readonly scope: 'attempt' | 'deadline';
  readonly timeoutMs: number;

  constructor(call: Omit<HttpCall, 'idempotent'>, scope: 'attempt' | 'deadline', timeoutMs: number) {
    super('timeout', `${scope === 'attempt' ? 'attempt' : 'call'} timed out after ${timeoutMs} ms`, call);
    this.scope = scope;
    this.timeoutMs = timeoutMs;
  }
}

/** The circuit of this downstream is open: the call failed fast without being sent. */
export class CircuitOpenError extends HttpClientError {
  constructor(call: Omit<HttpCall, 'idempotent'>) {
    super('circuit-open', 'circuit open, call not sent', call);
  }
}

/** The bulkhead of this downstream is full (all slots busy, queue full): not sent. */
export class BulkheadFullError extends HttpClientError {
  constructor(call: Omit<HttpCall, 'idempotent'>) {
    super('bulkhead-full', 'too many calls in flight, call not sent', call);
  }
}

/** No response: refused, reset, DNS failure, TLS failure, or no instance to call. */
export class ConnectionError extends HttpClientError {
  /** The system or undici error code, e.g. `ECONNREFUSED`, `UND_ERR_SOCKET`. */
  readonly code: string | undefined;

  constructor(call: Omit<HttpCall, 'idempotent'>, cause: unknown) {
    const code = errorCode(cause);
    super(
      'connection',
      `${code ?? 'connection failed'}: ${cause instanceof Error ? cause.message : String(cause)}`,
      call,
      {
        cause,
      },
    );
    this.code = code;
  }
}

function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
