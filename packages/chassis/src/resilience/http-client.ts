import { AsyncResource } from 'node:async_hooks';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Agent } from 'undici';
import type { Tracing } from '../tracing/index.js';
import type { ClientMetrics } from './client-metrics.js';
import { type AttemptResponse, type ClientPolicies, retryableErrors } from './client-policies.js';
import type { ClientSettings } from './config-schema.js';
import type { Endpoint, EndpointResolver } from './endpoint-resolver.js';
import { ConnectionError, type HttpCall, HttpStatusError, TimeoutError } from './errors.js';
import { isIdempotentCall, isTransientStatus, parseRetryAfter, wasNotSent } from './retry-rules.js';

/** undici's errors for an attempt that ran out of time connecting, waiting for headers, or reading. */
const ATTEMPT_TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export type HttpHeaders = Record<string, string | string[] | undefined>;

/**
 * Adds headers to every attempt of every client, in the async context of the call (so it can see
 * the request being handled). `headers` already holds the caller's own headers. `call.origin` is set
 * when the caller gave an absolute URL (the origin it goes to) and undefined for a path on the
 * client's own downstream: a hook adding credentials meant for that downstream skips such calls.
 */
export type RequestHeadersHook = (
  headers: Record<string, string>,
  call: {
    readonly client: string;
    readonly method: string;
    readonly path: string;
    readonly origin: string | undefined;
  },
) => void;

export interface HttpCallOptions {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A string or bytes are sent as they are; anything else as JSON. */
  body?: unknown;
  /**
   * Whether the call may be repeated safely. By default GET, HEAD, OPTIONS, PUT, DELETE and TRACE
   * are, and so is any call with an `Idempotency-Key` header.
   */
  idempotent?: boolean;
  /** Cancels the call (every attempt and wait). */
  signal?: AbortSignal;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: HttpHeaders;
  /** Parsed JSON when the response says it is JSON, the text otherwise, undefined when empty. */
  body: T;
}

/** What the client uses from the service: built by the clients plugin. */
export interface HttpClientDependencies {
  name: string;
  settings: ClientSettings;
  policies: ClientPolicies;
  metrics: ClientMetrics | undefined;
  tracing: Pick<Tracing, 'enabled' | 'tracer' | 'inject'> | undefined;
  /** The resolver of clients without a fixed base URL; looked up per attempt. */
  resolver(): EndpointResolver | undefined;
  /** Hooks that add headers to each attempt; the list may grow after the client is made. */
  requestHeaders?: readonly RequestHeadersHook[];
  /** Replaces credentials in a URL's query before it is recorded in a span. */
  redactUrl?: (url: string) => string;
}

interface Call extends HttpCall {
  /** The origin of an absolute URL; undefined for a path on the client's downstream. */
  origin: string | undefined;
  /** Path and query as sent, after the base path. */
  target: string;
  headers: Record<string, string> | undefined;
  body: string | Uint8Array | undefined;
}

/**
 * A client for one downstream: undici underneath, cockatiel's deadline, retry, bulkhead, circuit
 * breaker and attempt timeout around every call, a client span and trace headers on each attempt.
 * Every method takes a path on the downstream (`/stock/42`, after the base URL's path) or an
 * absolute http(s) URL, which goes where it says under the same policies.
 */
export class HttpClient {
  readonly name: string;
  readonly #deps: HttpClientDependencies;
  readonly #agent: Agent;
  readonly #fixed: { origin: string; basePath: string } | undefined;
  readonly #fixedEndpoint: Endpoint | undefined;

  constructor(deps: HttpClientDependencies) {
    this.name = deps.name;
    this.#deps = deps;
    // The policies cancel an attempt at its timeout; undici's own timeouts (connecting, waiting for
    // headers, between body chunks) stay as a backstop and tell a connect timeout apart.
    const attemptMs = deps.settings.attemptTimeoutMs;
    this.#agent = new Agent({
      keepAliveTimeout: 4000,
      ...(attemptMs > 0 ? { connect: { timeout: attemptMs } } : {}),
      headersTimeout: attemptMs,
      bodyTimeout: attemptMs,
    });
    this.#fixed = deps.settings.baseUrl ? splitBaseUrl(deps.settings.baseUrl) : undefined;
    this.#fixedEndpoint = deps.settings.baseUrl ? { url: deps.settings.baseUrl } : undefined;
  }

  get<T = unknown>(path: string, options?: HttpCallOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  head(path: string, options?: HttpCallOptions): Promise<HttpResponse<undefined>> {
    return this.request<undefined>('HEAD', path, options);
  }

  post<T = unknown>(path: string, body?: unknown, options?: HttpCallOptions): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  put<T = unknown>(path: string, body?: unknown, options?: HttpCallOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PUT', path, { ...options, body });
  }

  patch<T = unknown>(path: string, body?: unknown, options?: HttpCallOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PATCH', path, { ...options, body });
  }

  delete<T = unknown>(path: string, options?: HttpCallOptions): Promise<HttpResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }

  /**
   * Sends a request through the policies to `path` on the downstream or to an absolute http(s) URL.
   * Resolves with the response of status < 400; rejects with an {@link HttpStatusError} (status ≥ 400
   * after any retries), {@link TimeoutError}, {@link CircuitOpenError}, {@link BulkheadFullError} or
   * {@link ConnectionError} (`ENOENDPOINT`: a path, but no base URL or registry to find the downstream).
   */
  async request<T = unknown>(
    method: string,
    path: string,
    options: HttpCallOptions = {},
  ): Promise<HttpResponse<T>> {
    const url = path.startsWith('/') ? undefined : absoluteUrl(this.name, path);
    const upper = method.toUpperCase();
    const target = url ? url.pathname + url.search : path;
    const call: Call = {
      client: this.name,
      method: upper,
      // Errors and hooks name an absolute URL without its query, as they do a path.
      path: url ? url.origin + url.pathname : path,
      origin: url?.origin,
      target: options.query ? withQuery(target, options.query) : target,
      headers: options.headers,
      body: encodeBody(options.body),
      idempotent: isIdempotentCall(upper, options.headers, options.idempotent),
    };
    if (!url && !this.#fixed && !this.#deps.resolver()) throw this.#noEndpoint(call);
    if (call.body !== undefined && !hasContentType(options.headers) && !isRaw(options.body))
      call.headers = { ...options.headers, 'content-type': 'application/json' };

    // Bound to the caller's async context: a call that waited in the bulkhead queue is sent from
    // inside the call that freed its slot, and must not take that call's trace or request.
    const send = AsyncResource.bind((attempt: number, signal: AbortSignal) =>
      this.#send(call, attempt, signal),
    );
    const response = await this.#deps.policies.execute(call, send, options.signal);
    if (response.status >= 400) throw new HttpStatusError(call, response);
    return { status: response.status, headers: response.headers, body: response.body as T };
  }

  /** Closes the connections; calls after this fail. */
  close(): Promise<void> {
    this.#deps.policies.breaker?.dispose();
    return this.#agent.close();
  }

  /** The request itself: resolve an instance, send, read the whole body. */
  async #send(call: Call, attempt: number, signal: AbortSignal): Promise<AttemptResponse> {
    const { tracing } = this.#deps;
    const began = performance.now();
    const parent = context.active();
    const span = tracing?.enabled
      ? tracing.tracer.startSpan(call.method, { kind: SpanKind.CLIENT }, parent)
      : undefined;
    let endpoint: Endpoint | undefined;
    let status = 'error';
    try {
      let target: { origin: string; basePath: string };
      if (call.origin) target = { origin: call.origin, basePath: '' };
      else {
        endpoint = this.#fixedEndpoint ?? (await this.#resolve(call));
        target = this.#fixed ?? splitBaseUrl(endpoint.url);
      }
      const headers: Record<string, string> = { ...call.headers };
      const hooks = this.#deps.requestHeaders;
      if (hooks) for (const hook of hooks) hook(headers, call);
      // With tracing off, a context the application made active itself still travels on.
      tracing?.inject(headers, span ? trace.setSpan(parent, span) : parent);
      if (span?.isRecording())
        describeAttempt(span, call, target.origin, target.basePath, attempt, this.#deps.redactUrl);
      if (signal.aborted) throw signal.reason;
      const res = await this.#agent.request({
        origin: target.origin,
        path: target.basePath + call.target,
        method: call.method as 'GET',
        headers,
        body: call.body ?? null,
        signal,
      });
      const text = await res.body.text();
      status = String(res.statusCode);
      endpoint?.release?.({ ok: res.statusCode < 500 });
      if (span?.isRecording()) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 400) {
          span.setAttribute('error.type', status);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      return {
        status: res.statusCode,
        headers: res.headers,
        body: parseBody(text, res.headers['content-type']),
        retryable: call.idempotent && isTransientStatus(res.statusCode),
        retryAfterMs:
          res.statusCode === 429 || res.statusCode === 503
            ? parseRetryAfter(res.headers['retry-after'])
            : undefined,
        attempt,
      };
    } catch (error) {
      endpoint?.release?.({ ok: false });
      if (span?.isRecording()) {
        span.setAttribute('error.type', (error as { code?: string }).code ?? (error as Error).name);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      // Cancelled by its timeout, its call's deadline or the caller: the request is closed already.
      if (signal.aborted) throw signal.reason;
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && ATTEMPT_TIMEOUT_CODES.has(code)) {
        const timeout = new TimeoutError(call, 'attempt', this.#deps.settings.attemptTimeoutMs);
        if (call.idempotent || wasNotSent(code)) retryableErrors.set(timeout, attempt);
        throw timeout;
      }
      const failure = error instanceof ConnectionError ? error : new ConnectionError(call, error);
      if (call.idempotent || wasNotSent(failure.code)) retryableErrors.set(failure, attempt);
      throw failure;
    } finally {
      span?.end();
      const seconds = (performance.now() - began) / 1000;
      this.#deps.metrics?.duration.observe(
        `${this.name} ${call.method} ${status}`,
        () => ({ client: this.name, method: call.method, status_code: status }),
        seconds,
      );
    }
  }

  async #resolve(call: Call): Promise<Endpoint> {
    const resolver = this.#deps.resolver();
    if (!resolver) throw this.#noEndpoint(call);
    return resolver.resolve(this.name);
  }

  #noEndpoint(call: Call): ConnectionError {
    const name = this.name;
    return new ConnectionError(
      call,
      Object.assign(
        new Error(
          `client "${name}" has no base URL and no service registry to find its downstream: ` +
            `set clients.${name}.baseUrl (declared with createService({ clients: { ${name}: {} } })), ` +
            'enable a registry, or call an absolute URL',
        ),
        { code: 'ENOENDPOINT' },
      ),
    );
  }
}

const baseUrls = new Map<string, { origin: string; basePath: string }>();

/** `http://host:3000/api/` → origin `http://host:3000`, base path `/api`; cached per URL. */
function splitBaseUrl(url: string): { origin: string; basePath: string } {
  let split = baseUrls.get(url);
  if (!split) {
    const parsed = new URL(url);
    split = { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, '') };
    if (baseUrls.size < 1024) baseUrls.set(url, split);
  }
  return split;
}

/** An absolute http(s) URL given instead of a path; anything else is a caller's mistake. */
function absoluteUrl(client: string, text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    throw new TypeError(`${client}: expected a path starting with "/" or an absolute http(s) URL: ${text}`);
  // As fetch() does: credentials in a URL would end up in logs and spans.
  if (url.username || url.password)
    throw new TypeError(`${client}: a URL with credentials is refused; send them in a header instead`);
  return url;
}

/** `target` with the query parameters added to any query it has; undefined values are left out. */
function withQuery(target: string, query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) params.append(key, String(value));
  const text = params.toString();
  if (!text) return target;
  return `${target}${target.includes('?') ? '&' : '?'}${text}`;
}

function isRaw(body: unknown): body is string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array;
}

function encodeBody(body: unknown): string | Uint8Array | undefined {
  if (body === undefined) return undefined;
  return isRaw(body) ? body : JSON.stringify(body);
}

function hasContentType(headers: Record<string, string> | undefined): boolean {
  if (!headers) return false;
  for (const name in headers) if (name.toLowerCase() === 'content-type') return true;
  return false;
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  if (text === '') return undefined;
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (type?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The OpenTelemetry HTTP client attributes of one attempt. */
function describeAttempt(
  span: Span,
  call: Call,
  origin: string,
  basePath: string,
  attempt: number,
  redactUrl: (url: string) => string = (u) => u,
): void {
  const url = new URL(origin);
  span.setAttributes({
    'http.request.method': call.method,
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    'url.full': redactUrl(`${origin}${basePath}${call.target}`),
    'keelson.client': call.client,
  });
  if (attempt > 0) span.setAttribute('http.request.resend_count', attempt);
}
