import {
  type Context,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type TraceState,
  trace,
} from '@opentelemetry/api';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex (W3C Trace Context Level 1, §3.2).
const TRACEPARENT_PREFIX = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';
// Longer headers are not worth a regular expression: no valid version-00 header comes close.
const MAX_TRACEPARENT = 512;

const MAX_MEMBERS = 32;
const MAX_TRACESTATE = 512;
const LONG_MEMBER = 128;
// §3.3.1.3: simple-key, or tenant-id "@" system-id.
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// §3.3.1.3.2: up to 256 printable ASCII characters except "," and "=", not ending in a space.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** An immutable W3C `tracestate`: list members in order, most recently updated first. */
export class W3CTraceState implements TraceState {
  readonly #members: ReadonlyMap<string, string>;

  constructor(members: ReadonlyMap<string, string> = new Map()) {
    this.#members = members;
  }

  set(key: string, value: string): W3CTraceState {
    if (!KEY.test(key) || !VALUE.test(value)) return this;
    const members = new Map([[key, value]]);
    for (const [k, v] of this.#members) if (k !== key && members.size < MAX_MEMBERS) members.set(k, v);
    return new W3CTraceState(members);
  }

  unset(key: string): W3CTraceState {
    if (!this.#members.has(key)) return this;
    const members = new Map(this.#members);
    members.delete(key);
    return new W3CTraceState(members);
  }

  get(key: string): string | undefined {
    return this.#members.get(key);
  }

  serialize(): string {
    let text = '';
    for (const [k, v] of this.#members) text += text === '' ? `${k}=${v}` : `,${k}=${v}`;
    return text;
  }
}

/**
 * Parses a `tracestate` header. Returns undefined when it is empty or invalid: an invalid member,
 * a duplicate key or more than 32 members discard the whole header, which the specification
 * allows and which keeps a corrupt vendor state from travelling on. Above 512 characters, members
 * longer than 128 characters go first, then members from the end (§3.3.1.5).
 */
export function parseTraceState(header: string): W3CTraceState | undefined {
  const members = new Map<string, string>();
  let count = 0;
  for (const raw of header.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    if (++count > MAX_MEMBERS) return undefined;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value) || members.has(key)) return undefined;
    members.set(key, value);
  }
  if (members.size === 0) return undefined;
  return new W3CTraceState(truncate(members));
}

function truncate(members: Map<string, string>): Map<string, string> {
  const length = () =>
    [...members].reduce((n, [k, v], i) => n + k.length + 1 + v.length + (i > 0 ? 1 : 0), 0);
  if (length() <= MAX_TRACESTATE) return members;
  for (const [k, v] of [...members].reverse()) {
    if (k.length + 1 + v.length > LONG_MEMBER) members.delete(k);
    if (length() <= MAX_TRACESTATE) return members;
  }
  for (const k of [...members.keys()].reverse()) {
    members.delete(k);
    if (length() <= MAX_TRACESTATE) return members;
  }
  return members;
}

/** One value of a header that must not repeat; undefined when absent, repeated or not a string. */
function single(value: string | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * W3C Trace Context Level 1 (`traceparent` + `tracestate`). Invalid input never throws and never
 * fails a request: the extracted context is simply left unchanged, so a new trace starts.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (!span || !isSpanContextValid(span)) return;
    // Version 00 defines only the sampled flag; other bits are not passed on.
    setter.set(carrier, TRACEPARENT, `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = single(getter.get(carrier, TRACEPARENT));
    if (header === undefined || header.length > MAX_TRACEPARENT) return ctx;
    const text = header.trim();
    const match = TRACEPARENT_PREFIX.exec(text);
    if (!match) return ctx;
    const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
    if (version === 'ff') return ctx;
    // Version 00 is exactly 55 characters; a later version may append fields after a "-" (§3.2.4).
    if (version === '00' ? text.length !== 55 : text.length > 55 && text[55] !== '-') return ctx;
    if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return ctx;

    const stateHeader = getter.get(carrier, TRACESTATE);
    const stateText = Array.isArray(stateHeader) ? stateHeader.join(',') : stateHeader;
    const traceState = typeof stateText === 'string' ? parseTraceState(stateText) : undefined;
    return trace.setSpanContext(ctx, {
      traceId,
      spanId,
      traceFlags: Number.parseInt(flags, 16) & 1,
      isRemote: true,
      ...(traceState ? { traceState } : {}),
    });
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}
