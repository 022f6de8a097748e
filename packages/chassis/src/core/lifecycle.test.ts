import { describe, expect, it } from 'vitest';
import { Lifecycle, type LifecycleState } from './lifecycle.js';

describe('Lifecycle', () => {
  it('walks STARTING → READY → DRAINING → STOPPED and tells listeners', () => {
    const lifecycle = new Lifecycle();
    const seen: string[] = [];
    lifecycle.onTransition((to, from) => seen.push(`${from}>${to}`));
    for (const state of ['READY', 'DRAINING', 'STOPPED'] as LifecycleState[]) lifecycle.transition(state);
    expect(seen).toEqual(['STARTING>READY', 'READY>DRAINING', 'DRAINING>STOPPED']);
  });

  it('refuses transitions the table does not allow', () => {
    const lifecycle = new Lifecycle();
    expect(() => lifecycle.transition('STOPPED')).toThrow('Illegal lifecycle transition STARTING → STOPPED');
    lifecycle.transition('READY');
    expect(() => lifecycle.transition('STARTING')).toThrow('READY → STARTING');
    lifecycle.transition('FAILED');
    expect(lifecycle.can('DRAINING')).toBe(true);
    expect(lifecycle.can('READY')).toBe(false);
  });
});
