import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parseTraceState, W3CTraceContextPropagator, W3CTraceState } from './w3c-trace-context.js';

const propagator = new W3CTraceContextPropagator();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

const extract = (headers: Record<string, unknown>) =>
  trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));

describe('traceparent', () => {
  it('accepts a valid version-00 header, with optional surrounding whitespace', () => {
    for (const header of [`00-${TRACE}-${SPAN}-01`, ` 00-${TRACE}-${SPAN}-01 `, `\t00-${TRACE}-${SPAN}-01`])
      expect(extract({ traceparent: header })).toEqual({
        traceId: TRACE,
        spanId: SPAN,
        traceFlags: TraceFlags.SAMPLED,
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
    ['a missing field', `00-${TRACE}-${SPAN}`],
    ['uppercase version', `0A-${TRACE}-${SPAN}-01`],
    ['other separators', `00_${TRACE}_${SPAN}_01`],
    ['a future version without a dash after the flags', `cc-${TRACE}-${SPAN}-01x`],
    ['an empty string', ''],
    ['garbage', 'not a traceparent'],
    ['a 10 kB header', `00-${TRACE}-${SPAN}-01${'-'.repeat(10_000)}`],
  ])('ignores %s', (_name, header) => {
    expect(extract({ traceparent: header, tracestate: 'a=b' })).toBeUndefined();
  });

  it('ignores a repeated header and non-string values', () => {
    expect(extract({ traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-00`] })).toBeUndefined();
    expect(extract({ traceparent: [`00-${TRACE}-${SPAN}-01`] })?.traceId).toBe(TRACE);
    expect(extract({ traceparent: 42 })).toBeUndefined();
    expect(extract({})).toBeUndefined();
  });

  it('parses the first fields of a future version and ignores the rest', () => {
    expect(extract({ traceparent: `cc-${TRACE}-${SPAN}-01-more-fields` })?.traceId).toBe(TRACE);
    expect(extract({ traceparent: `01-${TRACE}-${SPAN}-01` })?.spanId).toBe(SPAN);
  });

  it('keeps only the sampled flag', () => {
    expect(extract({ traceparent: `00-${TRACE}-${SPAN}-00` })?.traceFlags).toBe(0);
    expect(extract({ traceparent: `00-${TRACE}-${SPAN}-03` })?.traceFlags).toBe(1);
    expect(extract({ traceparent: `00-${TRACE}-${SPAN}-02` })?.traceFlags).toBe(0);
  });
});

describe('tracestate', () => {
  const state = (tracestate: unknown) =>
    extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate })?.traceState?.serialize();

  it('keeps valid simple and multi-tenant keys in order', () => {
    expect(state('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(state('tenant1@vendor=v, a_b-c*d/e=1 ,9z@x=y')).toBe('tenant1@vendor=v,a_b-c*d/e=1,9z@x=y');
  });

  it('joins repeated headers and skips empty members', () => {
    expect(state(['a=1', 'b=2'])).toBe('a=1,b=2');
    expect(state('a=1,,  ,b=2')).toBe('a=1,b=2');
  });

  it.each([
    ['an uppercase key', 'Vendor=1'],
    ['a key starting with a digit', '1abc=1'],
    ['a value with a comma-free "="', 'a=b=c'],
    ['a value ending in a space inside', 'a=b ,c=\u0007'],
    ['a missing value', 'a='],
    ['a missing "="', 'a'],
    ['a duplicate key', 'a=1,a=2'],
    ['a system id too long', `t@${'a'.repeat(15)}=1`],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('drops the whole header for %s but keeps the trace', (_name, header) => {
    expect(state(header)).toBeUndefined();
    expect(extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: header })?.traceId).toBe(TRACE);
  });

  it('accepts 32 members', () => {
    const header = Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',');
    expect(state(header)).toBe(header);
  });

  it('truncates above 512 characters: long members first, then from the end', () => {
    const long = `big=${'x'.repeat(200)}`;
    const small = Array.from({ length: 20 }, (_, i) => `key${i}=${'v'.repeat(10)}`);
    const header = [small[0], long, ...small.slice(1)].join(',');
    const kept = state(header) ?? '';
    expect(kept.length).toBeLessThanOrEqual(512);
    expect(kept).not.toContain('big=');
    expect(kept.startsWith('key0=')).toBe(true);

    const many = Array.from(
      { length: 30 },
      (_, i) => `key${String(i).padStart(2, '0')}=${'v'.repeat(20)}`,
    ).join(',');
    const cut = state(many) ?? '';
    expect(cut.length).toBeLessThanOrEqual(512);
    expect(cut.startsWith('key00=')).toBe(true);
    expect(cut).not.toContain('key29=');
  });

  it('is immutable, puts updated keys first and validates what is set', () => {
    const base = parseTraceState('a=1,b=2') as W3CTraceState;
    const updated = base.set('b', '3');
    expect(updated.serialize()).toBe('b=3,a=1');
    expect(base.serialize()).toBe('a=1,b=2');
    expect(updated.unset('a').serialize()).toBe('b=3');
    expect(base.set('Bad', 'x')).toBe(base);
    expect(base.set('ok', 'no,commas')).toBe(base);
    expect(base.get('a')).toBe('1');
    expect(new W3CTraceState().serialize()).toBe('');
  });
});

describe('inject', () => {
  it('writes version 00, the sampled flag only, and a non-empty tracestate', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0xff,
      traceState: parseTraceState('a=1'),
    });
    const carrier: Record<string, string> = {};
    propagator.inject(ctx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'a=1' });
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

  it('round-trips what it extracted', () => {
    const headers = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'x@y=1,z=2' };
    const carrier: Record<string, string> = {};
    propagator.inject(
      propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
      carrier,
      defaultTextMapSetter,
    );
    expect(carrier).toEqual(headers);
    expect(propagator.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
