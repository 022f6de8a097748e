import type { RouteOptions } from 'fastify';

/** The duration strings the package reads (`500`, `30 seconds`, `1m`, `2 hours`); it makes NaN of others. */
const DURATION =
  /^(\d+(?:\.\d+)?|\.\d+) *(ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|y|yrs?|years?)?$/i;

const isPositiveInteger = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
const isPositiveDuration = (value: unknown) =>
  (typeof value === 'number' && Number.isFinite(value) && value >= 1) ||
  (typeof value === 'string' && DURATION.test(value) && Number.parseFloat(value) > 0);

/**
 * Checks a route's own limit (`config: { rateLimit: { max, timeWindow } }`) when the route is
 * declared, so a typo fails at startup with the route's name instead of limiting oddly: the
 * package would read `max: 0` as "refuse everything", a negative one as its default, and a
 * duration it cannot parse as a window that never ends.
 */
export function checkRouteLimit(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): void {
  const limit = (route.config as { rateLimit?: unknown } | undefined)?.rateLimit;
  if (limit === undefined || limit === null || limit === false) return;
  const where = `Route ${[route.method].flat().join(',')} ${route.url}`;
  if (typeof limit !== 'object')
    throw new TypeError(
      `${where}: config.rateLimit must be an object or false, got ${JSON.stringify(limit)}`,
    );
  const { max, timeWindow } = limit as { max?: unknown; timeWindow?: unknown };
  if (max !== undefined && typeof max !== 'function' && !isPositiveInteger(max))
    throw new TypeError(`${where}: config.rateLimit.max must be an integer ≥ 1, got ${JSON.stringify(max)}`);
  if (timeWindow !== undefined && typeof timeWindow !== 'function' && !isPositiveDuration(timeWindow))
    throw new TypeError(
      `${where}: config.rateLimit.timeWindow must be ms ≥ 1 or a duration like "1 minute", got ${JSON.stringify(timeWindow)}`,
    );
}
