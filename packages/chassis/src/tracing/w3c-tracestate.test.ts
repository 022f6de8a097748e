import { describe, expect, it } from 'vitest';
import { parseTraceState, W3CTraceState } from './w3c-tracestate.js';

const state = (header: string) => parseTraceState(header)?.serialize();
const members = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `k${String(i + from).padStart(2, '0')}=v`).join(',');

describe('parseTraceState', () => {
  it('keeps valid members in order, without the whitespace around them', () => {
    expect(state('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(state(' a=1 \t, \tb=2,\t \tc=3 ')).toBe('a=1,b=2,c=3');
    expect(state('a=1,,  ,\t,b=2,')).toBe('a=1,b=2');
    // A leading space belongs to the value; a trailing one is optional whitespace.
    expect(state('a= x y  ')).toBe('a= x y');
  });

  it('accepts the Level 2 key grammar: a letter or digit first, then keychars including "@"', () => {
    const keys = [
      'a',
      '1abc',
      'abcdefghijklmnopqrstuvwxyz0123456789_-*/@',
      'tenant@vendor',
      '9z@x',
      'foo@',
      'foo@@bar',
      'foo@bar@baz',
      `${'t'.repeat(242)}@v`,
      `t@${'v'.repeat(15)}`,
      'z'.repeat(256),
    ];
    for (const key of keys) expect(state(`${key}=1,other=2`), key).toBe(`${key}=1,other=2`);
  });

  it('accepts every printable ASCII character in a value except "," and "="', () => {
    let value = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    expect(parseTraceState(`k=${value}`)?.get('k')).toBe(value);
    expect(parseTraceState(`k=${'x'.repeat(256)}`)?.get('k')).toBe('x'.repeat(256));
  });

  it.each([
    ['an uppercase key', 'Vendor=1,b=2'],
    ['a key starting with "@"', '@foo=1,bar=2'],
    ['a key starting with "_"', '_foo=1,bar=2'],
    ['a key with a dot', 'foo.bar=1'],
    ['a space inside a key', 'foo =1'],
    ['a key of 257 characters', `foo=1,${'z'.repeat(257)}=1`],
    ['an empty key', '=1'],
    ['a value containing "="', 'a=b=c'],
    ['an empty value', 'foo=,bar=3'],
    ['a control character in a value', 'a=b\u0007,c=1'],
    ['a tab inside a value', 'a=b\tc'],
    ['a non-ASCII value', 'a=é'],
    ['a value of 257 characters', `a=${'x'.repeat(257)}`],
    ['a missing "="', 'a'],
    ['33 members', members(33)],
    ['33 members, one repeated', `${members(32)},k01=v`],
  ])('drops the whole header for %s', (_name, header) => {
    expect(parseTraceState(header)).toBeUndefined();
  });

  it('returns nothing for an empty or whitespace-only header', () => {
    expect(parseTraceState('')).toBeUndefined();
    expect(parseTraceState(' , \t,')).toBeUndefined();
  });

  it('accepts 32 members, empty members not counted', () => {
    expect(state(`${members(32)},, ,`)).toBe(members(32));
  });

  it('keeps the left-most entry of a repeated key and every other member', () => {
    expect(state('foo=1,foo=1')).toBe('foo=1');
    expect(state('foo=1,bar=2,foo=3,baz=4')).toBe('foo=1,bar=2,baz=4');
  });

  it('truncates above 512 characters: members over 128 characters first, then from the end', () => {
    const long = `big=${'x'.repeat(200)}`;
    const small = Array.from({ length: 20 }, (_, i) => `key${String(i).padStart(2, '0')}=${'v'.repeat(10)}`);
    // 20 × 16 + 204 + 20 commas = 544: removing the long member alone is enough.
    expect(state([small[0], long, ...small.slice(1)].join(','))).toBe(small.join(','));

    // 30 × 26 + 29 = 809: whole members go from the end until at most 512 remain (19 × 27 - 1).
    const many = Array.from({ length: 30 }, (_, i) => `key${String(i).padStart(2, '0')}=${'v'.repeat(20)}`);
    expect(state(many.join(','))).toBe(many.slice(0, 19).join(','));

    // Exactly 512 characters is kept whole.
    const exact = `a=${'x'.repeat(254)},b=${'y'.repeat(253)}`;
    expect(exact.length).toBe(512);
    expect(state(exact)).toBe(exact);
  });
});

describe('W3CTraceState', () => {
  it('is immutable, puts updated keys first and validates what is set', () => {
    const base = parseTraceState('a=1,b=2') as W3CTraceState;
    const updated = base.set('b', '3');
    expect(updated.serialize()).toBe('b=3,a=1');
    expect(base.serialize()).toBe('a=1,b=2');
    expect(updated.unset('a').serialize()).toBe('b=3');
    expect(base.unset('zz')).toBe(base);
    expect(base.set('Bad', 'x')).toBe(base);
    expect(base.set('', 'x')).toBe(base);
    expect(base.set('ok', 'no,commas')).toBe(base);
    expect(base.set('t@v', 'ok').serialize()).toBe('t@v=ok,a=1,b=2');
    expect(base.get('a')).toBe('1');
    expect(new W3CTraceState().serialize()).toBe('');
  });

  it('removes the right-most member when a 33rd would be added', () => {
    const full = parseTraceState(members(32)) as W3CTraceState;
    expect(full.set('new', 'x').serialize()).toBe(`new=x,${members(31)}`);
  });
});
