import { describe, expect, it } from 'vitest';
import { PluginError } from './errors.js';
import { orderPlugins } from './plugin-order.js';

const p = (name: string, ...dependencies: string[]) => ({ name, dependencies });

describe('orderPlugins', () => {
  it('puts dependencies first and keeps the given order otherwise', () => {
    const ordered = orderPlugins([p('a', 'c'), p('b'), p('c'), p('d', 'a', 'b')]);
    expect(ordered.map((x) => x.name)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('names a missing dependency', () => {
    expect(() => orderPlugins([p('outbox', 'db')])).toThrow(
      new PluginError('Plugin "outbox" depends on "db", which is not registered'),
    );
  });

  it('names the whole cycle', () => {
    expect(() => orderPlugins([p('a', 'b'), p('b', 'c'), p('c', 'a')])).toThrow(
      'Circular plugin dependency: a → b → c → a',
    );
    expect(() => orderPlugins([p('self', 'self')])).toThrow('Circular plugin dependency: self → self');
  });

  it('refuses two plugins with one name', () => {
    expect(() => orderPlugins([p('x'), p('x')])).toThrow('Plugin "x" is registered twice');
  });
});
