import type { RouteOptions } from 'fastify';
import { type OperationDescriber, RETRY_AFTER, type ResponseHeader } from '../http/index.js';

const integer = (description: string): ResponseHeader => ({ description, schema: { type: 'integer' } });

const HEADERS: Readonly<Record<string, ResponseHeader>> = {
  ...RETRY_AFTER,
  'RateLimit-Limit': integer('Requests allowed per window.'),
  'RateLimit-Remaining': integer('Requests left in the current window.'),
  'RateLimit-Reset': integer('Seconds until the window resets.'),
};

/** 429 on the routes the limiter acts on, with the route's own limit when it sets one. */
export function describeRateLimit(
  limited: WeakSet<RouteOptions>,
  defaults: { max: number; windowMs: number; client: string },
): OperationDescriber {
  return ({ route }) => {
    if (!limited.has(route as RouteOptions)) return undefined;
    const own = (route.config as { rateLimit?: { max?: unknown; timeWindow?: unknown } } | undefined)
      ?.rateLimit;
    const max = own?.max ?? defaults.max;
    const window = own?.timeWindow ?? defaults.windowMs;
    const limit =
      typeof max === 'number'
        ? `more than ${max} requests per ${typeof window === 'number' ? `${window} ms` : window}`
        : 'more requests than its limit';
    return {
      problems: {
        429: { description: `The client (by ${defaults.client}) sent ${limit}.`, headers: HEADERS },
      },
    };
  };
}
