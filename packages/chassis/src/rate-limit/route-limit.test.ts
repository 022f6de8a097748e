import { describe, expect, it } from 'vitest';
import { checkRouteLimit } from './route-limit.js';

const route = (rateLimit: unknown) => ({ method: 'GET' as const, url: '/x', config: { rateLimit } as never });

describe('checkRouteLimit', () => {
  it('accepts what the package reads', () => {
    for (const limit of [
      undefined,
      false,
      { max: 5 },
      { timeWindow: 1000 },
      { max: 1, timeWindow: '1 minute' },
      { timeWindow: '30s' },
      { timeWindow: '2 hours' },
      { max: () => 3, timeWindow: () => 1000 },
    ])
      expect(() => checkRouteLimit(route(limit))).not.toThrow();
  });

  it('refuses what it would misread, naming the route', () => {
    expect(() => checkRouteLimit(route({ max: -1 }))).toThrow(
      'Route GET /x: config.rateLimit.max must be an integer ≥ 1, got -1',
    );
    expect(() => checkRouteLimit(route({ max: '10' }))).toThrow(/max must be an integer ≥ 1, got "10"/);
    expect(() => checkRouteLimit(route({ timeWindow: 0 }))).toThrow(/timeWindow must be ms ≥ 1/);
    expect(() => checkRouteLimit(route({ timeWindow: 'soon' }))).toThrow(/got "soon"/);
    expect(() => checkRouteLimit(route({ timeWindow: '0 s' }))).toThrow(/got "0 s"/);
    expect(() => checkRouteLimit(route(true))).toThrow(
      /config.rateLimit must be an object or false, got true/,
    );
  });
});
