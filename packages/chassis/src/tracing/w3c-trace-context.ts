import {
  type Context,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { isOws, parseTraceState } from './w3c-tracestate.js';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

// version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 characters.
const VERSION_00_LENGTH = 55;
// Future versions may append fields; beyond this a header is not worth reading.
const MAX_TRACEPARENT = 512;
// The flags version 00 defines at Level 2: sampled (bit 0) and random trace id (bit 1). The
// other bits are reserved and are neither read nor sent.
const KNOWN_FLAGS = 0x03;
const DASH = 0x2d;

// Lower-case hex digit → its value, anything else → -1.
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX['0123456789abcdef'.charCodeAt(c)] = c;

function hexValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return c < 128 ? (HEX[c] as number) : -1;
}

/** True when `text[start, end)` is lower-case hex and not all zeros. */
function isNonZeroHex(text: string, start: number, end: number): boolean {
  let any = 0;
  for (let i = start; i < end; i++) {
    const v = hexValue(text, i);
    if (v === -1) return false;
    any |= v;
  }
  return any !== 0;
}

/**
 * Parses a `traceparent` (W3C Trace Context Level 2, §3.2): one pass over fixed positions, no
 * regular expression. Version 00 must be exactly 55 characters; a later version is read for its
 * first four fields when they are followed by the end or a "-" (§3.2.4); version ff, upper-case
 * hex and all-zero ids are invalid. Spaces and tabs around the value are optional whitespace.
 */
export function parseTraceparent(header: string): SpanContext | undefined {
  if (header.length > MAX_TRACEPARENT) return undefined;
  let start = 0;
  let end = header.length;
  while (start < end && isOws(header.charCodeAt(start))) start++;
  while (end > start && isOws(header.charCodeAt(end - 1))) end--;
  const length = end - start;
  if (length < VERSION_00_LENGTH) return undefined;

  const high = hexValue(header, start);
  const low = hexValue(header, start + 1);
  if (high === -1 || low === -1 || (high === 15 && low === 15)) return undefined;
  if (
    high === 0 && low === 0
      ? length !== VERSION_00_LENGTH
      : length > VERSION_00_LENGTH && header.charCodeAt(start + VERSION_00_LENGTH) !== DASH
  )
    return undefined;
  if (
    header.charCodeAt(start + 2) !== DASH ||
    header.charCodeAt(start + 35) !== DASH ||
    header.charCodeAt(start + 52) !== DASH ||
    !isNonZeroHex(header, start + 3, start + 35) ||
    !isNonZeroHex(header, start + 36, start + 52)
  )
    return undefined;
  const flagsHigh = hexValue(header, start + 53);
  const flagsLow = hexValue(header, start + 54);
  if (flagsHigh === -1 || flagsLow === -1) return undefined;
  return {
    traceId: header.slice(start + 3, start + 35),
    spanId: header.slice(start + 36, start + 52),
    traceFlags: ((flagsHigh << 4) | flagsLow) & KNOWN_FLAGS,
    isRemote: true,
  };
}

/** One value of a header that must not repeat; undefined when absent, repeated or not a string. */
function single(value: string | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * W3C Trace Context Level 2 (`traceparent` + `tracestate`), which a Level 1 participant reads the
 * same way. Invalid input never throws and never fails a request: the extracted context is left
 * unchanged, so a new trace starts, and the `tracestate` that came with it is not read.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (!span || !isSpanContextValid(span)) return;
    setter.set(carrier, TRACEPARENT, `00-${span.traceId}-${span.spanId}-0${span.traceFlags & KNOWN_FLAGS}`);
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = single(getter.get(carrier, TRACEPARENT));
    const parent = header === undefined ? undefined : parseTraceparent(header);
    if (parent === undefined) return ctx;
    const stateHeader = getter.get(carrier, TRACESTATE);
    const stateText = Array.isArray(stateHeader) ? stateHeader.join(',') : stateHeader;
    const traceState = typeof stateText === 'string' ? parseTraceState(stateText) : undefined;
    if (traceState) parent.traceState = traceState;
    return trace.setSpanContext(ctx, parent);
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}
