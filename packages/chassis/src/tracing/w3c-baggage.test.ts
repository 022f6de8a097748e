import { defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { W3CBaggagePropagator } from './w3c-baggage.js';

const propagator = new W3CBaggagePropagator();
const entries = (baggage: unknown) => {
  const b = propagation.getBaggage(propagator.extract(ROOT_CONTEXT, { baggage }, defaultTextMapGetter));
  return b ? Object.fromEntries(b.getAllEntries().map(([k, e]) => [k, e.value])) : undefined;
};

describe('baggage', () => {
  it('reads members with whitespace, percent-encoding and properties', () => {
    expect(entries('userId=alice, serverNode = DF%2028 ,isProduction=false;ttl=30')).toEqual({
      userId: 'alice',
      serverNode: 'DF 28',
      isProduction: 'false',
    });
    const b = propagation.getBaggage(
      propagator.extract(ROOT_CONTEXT, { baggage: 'k=v;prop1;p2=x' }, defaultTextMapGetter),
    );
    expect(b?.getEntry('k')?.metadata?.toString()).toBe('prop1;p2=x');
  });

  it('skips invalid members and keeps the valid ones', () => {
    expect(entries('good=1,bad key=2,=3,novalue,pct=%E0%A4%A,quote=a"b,ok=%C3%A9')).toEqual({
      good: '1',
      ok: 'é',
    });
    expect(entries('%%%;;;=')).toBeUndefined();
    expect(entries(42)).toBeUndefined();
  });

  it('joins repeated headers and stops at 64 members or 8192 bytes', () => {
    expect(entries(['a=1', 'b=2'])).toEqual({ a: '1', b: '2' });
    const many = Array.from({ length: 70 }, (_, i) => `k${i}=v`).join(',');
    expect(Object.keys(entries(many) ?? {})).toHaveLength(64);
    expect(entries(`a=${'x'.repeat(9000)}`)).toBeUndefined();
  });

  it('writes entries percent-encoded, with metadata, within the limits', () => {
    const baggage = propagation.createBaggage({ tenant: { value: 'acme corp' }, flag: { value: 'on' } });
    const carrier: Record<string, string> = {};
    propagator.inject(propagation.setBaggage(ROOT_CONTEXT, baggage), carrier, defaultTextMapSetter);
    expect(carrier.baggage).toBe('tenant=acme%20corp,flag=on');

    const big = propagation.createBaggage(
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { value: 'x'.repeat(100) }])),
    );
    const out: Record<string, string> = {};
    propagator.inject(propagation.setBaggage(ROOT_CONTEXT, big), out, defaultTextMapSetter);
    expect(Buffer.byteLength(out.baggage ?? '')).toBeLessThanOrEqual(8192);
    expect((out.baggage ?? '').split(',').length).toBeLessThanOrEqual(64);
  });

  it('round-trips and writes nothing without baggage', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(
      propagator.extract(ROOT_CONTEXT, { baggage: 'a=1;p,b=%2C' }, defaultTextMapGetter),
      carrier,
      defaultTextMapSetter,
    );
    expect(carrier.baggage).toBe('a=1;p,b=%2C');
    const empty: Record<string, string> = {};
    propagator.inject(ROOT_CONTEXT, empty, defaultTextMapSetter);
    expect(empty).toEqual({});
  });
});
