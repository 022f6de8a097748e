import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parseTraceparent, W3CTraceContextPropagator } from './w3c-trace-context.js';
import { parseTraceState } from './w3c-tracestate.js';

const propagator = new W3CTraceContextPropagator();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

const extract = (headers: Record<string, unknown>) =>
  trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));

describe('traceparent', () => {
  it('accepts a valid version-00 header, with optional spaces and tabs around it', () => {
    for (const header of [
      `00-${TRACE}-${SPAN}-01`,
      ` 00-${TRACE}-${SPAN}-01 `,
      `\t 00-${TRACE}-${SPAN}-01\t`,
    ])
      expect(parseTraceparent(header)).toEqual({
        traceId: TRACE,
        spanId: SPAN,
        traceFlags: 1,
        isRemote: true,
      });
  });

  it.each([
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with trailing data', `00-${TRACE}-${SPAN}-01-00`],
    ['version 00 with a trailing character', `00-${TRACE}-${SPAN}-01x`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long parent id', `00-${TRACE}-${SPAN}0-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['a one-digit version', `0-${TRACE}-${SPAN}-01`],
    ['a three-digit version', `000-${TRACE}-${SPAN}-01`],
    ['a missing field', `00-${TRACE}-${SPAN}`],
    ['uppercase version', `0A-${TRACE}-${SPAN}-01`],
    ['other separators', `00_${TRACE}_${SPAN}_01`],
    ['a future version without a dash after the flags', `cc-${TRACE}-${SPAN}-01x`],
    ['a future version shorter than 55 characters', `cc-${TRACE}-${SPAN}-1`],
    ['a non-ASCII character', `00-${TRACE.slice(1)}é-${SPAN}-01`],
    ['whitespace inside', `00-${TRACE}- ${SPAN.slice(1)}-01`],
    ['an empty string', ''],
    ['garbage', 'not a traceparent'],
    ['a 10 kB header', `00-${TRACE}-${SPAN}-01${'-'.repeat(10_000)}`],
  ])('ignores %s, and the tracestate with it', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
    expect(extract({ traceparent: header, tracestate: 'a=b' })).toBeUndefined();
  });

  it('ignores a repeated header and non-string values', () => {
    expect(extract({ traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-00`] })).toBeUndefined();
    expect(extract({ traceparent: [`00-${TRACE}-${SPAN}-01`] })?.traceId).toBe(TRACE);
    expect(extract({ traceparent: 42 })).toBeUndefined();
    expect(extract({})).toBeUndefined();
  });

  it('reads a tracestate given as several header fields, and ignores one that is not text', () => {
    const state = (tracestate: unknown) =>
      extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate })?.traceState?.serialize();
    expect(state(['a=1', 'b=2,a=3', ''])).toBe('a=1,b=2');
    expect(state(42)).toBeUndefined();
    expect(extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'A=1' })?.traceId).toBe(TRACE);
  });

  it('reads the first four fields of a future version and ignores the rest', () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-more-fields`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      isRemote: true,
    });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-03`)?.traceFlags).toBe(3);
  });

  it('keeps the sampled and random flags and drops the reserved ones', () => {
    const flags = (hex: string) => parseTraceparent(`00-${TRACE}-${SPAN}-${hex}`)?.traceFlags;
    expect([
      flags('00'),
      flags('01'),
      flags('02'),
      flags('03'),
      flags('ff'),
      flags('fc'),
      flags('09'),
    ]).toEqual([0, 1, 2, 3, 3, 0, 1]);
  });
});

describe('inject', () => {
  it('writes version 00 with the sampled and random flags only, and a non-empty tracestate', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0xff,
      traceState: parseTraceState('a=1'),
    });
    const carrier: Record<string, string> = {};
    propagator.inject(ctx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: `00-${TRACE}-${SPAN}-03`, tracestate: 'a=1' });
  });

  it('writes nothing without a valid span context', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
    propagator.inject(
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 }),
      carrier,
      defaultTextMapSetter,
    );
    expect(carrier).toEqual({});
  });

  it('round-trips what it extracted, downgrading a future version to 00', () => {
    for (const flags of ['00', '01', '02', '03']) {
      const carrier: Record<string, string> = {};
      const headers = { traceparent: `cc-${TRACE}-${SPAN}-${flags}-x`, tracestate: 'x@y=1,z=2' };
      propagator.inject(
        propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
        carrier,
        defaultTextMapSetter,
      );
      expect(carrier).toEqual({ traceparent: `00-${TRACE}-${SPAN}-${flags}`, tracestate: 'x@y=1,z=2' });
    }
    expect(propagator.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
