import { describe, expect, it } from 'vitest';
import { composeSchema, envNameFor } from './compose-schema.js';

describe('composeSchema', () => {
  it('derives env names and flags from keys unless given', () => {
    expect(envNameFor('http.bodyLimit')).toBe('HTTP_BODY_LIMIT');
    const { leaves } = composeSchema([
      {
        owner: 'a',
        schema: {
          http: { bodyLimit: { doc: 'd', default: 1 }, port: { doc: 'd', default: 2, env: 'PORT' } },
        },
      },
    ]);
    expect(leaves.map((l) => [l.key, l.leaf.env, l.leaf.arg])).toEqual([
      ['http.bodyLimit', 'HTTP_BODY_LIMIT', 'http.bodyLimit'],
      ['http.port', 'PORT', 'http.port'],
    ]);
  });

  it('merges fragments of different owners under one prefix', () => {
    const { schema, leaves } = composeSchema([
      { owner: 'a', schema: { shared: { x: { doc: 'x', default: 1 } } } },
      { owner: 'b', schema: { shared: { y: { doc: 'y', default: 2 } } } },
    ]);
    expect(Object.keys(schema.shared as object)).toEqual(['x', 'y']);
    expect(leaves.map((l) => `${l.owner}:${l.key}`)).toEqual(['a:shared.x', 'b:shared.y']);
  });

  it('refuses a key defined twice, naming both owners', () => {
    expect(() =>
      composeSchema([
        { owner: 'http', schema: { port: { doc: 'p', default: 1 } } },
        { owner: 'mine', schema: { port: { doc: 'p', default: 2 } } },
      ]),
    ).toThrow('Config key "port" is defined by both "http" and "mine"');
  });

  it('refuses a leaf where another owner has a section', () => {
    expect(() =>
      composeSchema([
        { owner: 'a', schema: { db: { url: { doc: 'u', default: '' } } } },
        { owner: 'b', schema: { db: { doc: 'd', default: '' } } },
      ]),
    ).toThrow(/Config key "db" is defined by both/);
  });

  it('refuses an undocumented key and an env variable claimed twice', () => {
    expect(() => composeSchema([{ owner: 'a', schema: { x: { doc: '', default: 1 } } }])).toThrow(
      'has no doc',
    );
    expect(() =>
      composeSchema([
        { owner: 'a', schema: { a: { b: { doc: 'd', default: 1 } }, a_b: { doc: 'd', default: 2 } } },
      ]),
    ).toThrow('Environment variable A_B is claimed by both "a.b" and "a_b"');
  });
});
