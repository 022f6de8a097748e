import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

/**
 * A counter store of @fastify/rate-limit: `incr(key, callback, timeWindow, max)` answers the
 * client's count in the current window and the ms left of it; `child(routeOptions)` gives the
 * store of a route with a limit of its own. The package constructs it with its settings.
 */
export type RateLimitStore = FastifyRateLimitStore;
export type RateLimitStoreConstructor = FastifyRateLimitStoreCtor;

export interface StoreHealth {
  /** A call failed (error, throw, or no result); the request was let through. */
  failed(error: unknown): void;
  /** A call answered. */
  answered(): void;
}

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1];

/**
 * Wraps a custom store so that its failures let requests through instead of failing them: an
 * unreachable shared store must not take the service down with it. Each failure is reported.
 */
export function failOpenStore(
  Store: RateLimitStoreConstructor,
  health: StoreHealth,
): RateLimitStoreConstructor {
  const wrap = (inner: FastifyRateLimitStore): FastifyRateLimitStore => {
    const guarded = (method: 'incr' | 'read') =>
      function call(key: string, callback: IncrCallback, timeWindow: number, max: number): void {
        let settled = false;
        const failOpen = (error: unknown) => {
          if (settled) return;
          settled = true;
          health.failed(error);
          callback(null, { current: 0, ttl: timeWindow });
        };
        try {
          const target = (inner as unknown as Record<typeof method, FastifyRateLimitStore['incr']>)[method];
          target.call(
            inner,
            key,
            (error, result) => {
              if (error || !result)
                return failOpen(error ?? new Error('the store answered without a result'));
              if (settled) return;
              settled = true;
              health.answered();
              callback(null, result);
            },
            timeWindow,
            max,
          );
        } catch (error) {
          failOpen(error);
        }
      };
    const store: FastifyRateLimitStore & { read?: FastifyRateLimitStore['incr'] } = {
      incr: guarded('incr'),
      child: (routeOptions) => wrap(inner.child(routeOptions)),
    };
    // `read` (a count without counting) is optional; offer it only when the store has it.
    if (typeof (inner as { read?: unknown }).read === 'function') store.read = guarded('read');
    return store;
  };
  // Called with `new` by the package: returning an object from a constructor makes it the instance.
  function FailOpenStore(options: object) {
    return wrap(new Store(options));
  }
  return FailOpenStore as unknown as RateLimitStoreConstructor;
}
