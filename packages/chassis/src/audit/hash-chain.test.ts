import { describe, expect, it } from 'vitest';
import type { AuditRecord } from './audit-entry.js';
import { canonicalJson, recordHash } from './hash-chain.js';
import { outcomeForStatus } from './route-audit.js';

const record: AuditRecord = {
  at: new Date('2026-01-02T03:04:05.678Z'),
  subject: 'u1',
  action: 'orders.create',
  resource: 'order:1',
  outcome: 'success',
  requestId: 'r1',
  traceId: null,
  details: { b: 1, a: { d: [1, 'x'], c: null } },
};

describe('hash chain', () => {
  it('writes JSON with sorted keys at every level, whatever their order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 'é' }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":"é","z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: undefined, b: 'x"y' })).toBe('{"b":"x\\"y"}');
  });

  it('hashes the previous hash and the fields, so a change to either changes it', () => {
    const hash = recordHash(null, record);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(recordHash(null, { ...record, details: { a: { c: null, d: [1, 'x'] }, b: 1 } })).toBe(hash);
    expect(recordHash('', record)).toBe(hash);
    expect(recordHash(hash, record)).not.toBe(hash);
    expect(recordHash(null, { ...record, action: 'orders.delete' })).not.toBe(hash);
    expect(recordHash(null, { ...record, at: new Date(record.at.getTime() + 1) })).not.toBe(hash);
  });
});

describe('route outcome', () => {
  it('maps status codes to outcomes', () => {
    expect([200, 201, 204, 302, 401, 403, 400, 404, 409, 429, 500, 503].map(outcomeForStatus)).toEqual([
      'success',
      'success',
      'success',
      'success',
      'denied',
      'denied',
      'failure',
      'failure',
      'failure',
      'failure',
      'failure',
      'failure',
    ]);
  });
});
