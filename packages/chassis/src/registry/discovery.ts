import type { Logger } from 'pino';
import type { Endpoint, EndpointResolver } from '../resilience/index.js';
import type { Registry } from './registry-port.js';
import { callable, type ServiceInstance } from './service-instance.js';

export interface DiscoveryOptions {
  balancing: 'round-robin' | 'least-outstanding';
  ejectMs: number;
  refreshMs: number;
}

interface Watched {
  instances: ServiceInstance[];
  loaded: Promise<void>;
  reloading: boolean;
  reloadAgain: boolean;
  stopWatch: () => void;
  timer: NodeJS.Timeout;
  next: number;
  outstanding: Map<string, number>;
  ejectedUntil: Map<string, number>;
}

/**
 * Client-side discovery over a {@link Registry}: a cache per service kept current by the registry's
 * watch (and a periodic full read), which keeps the last known instances while the registry is
 * unreachable; load balancing; instances whose calls fail are skipped for `ejectMs`.
 */
export class Discovery implements EndpointResolver {
  readonly #registry: Registry;
  readonly #options: DiscoveryOptions;
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();

  constructor(registry: Registry, options: DiscoveryOptions, log: Logger) {
    this.#registry = registry;
    this.#options = options;
    this.#log = log;
  }

  /** The READY instances of a service, from the cache (filled on first use). */
  async instances(service: string): Promise<ServiceInstance[]> {
    const watched = this.#watch(service);
    await watched.loaded;
    return watched.instances;
  }

  /** Every instance of every service the registry holds, read now (for tools: `keelson services`). */
  all(): Promise<ServiceInstance[]> {
    return this.#registry.instances();
  }

  /** Picks an instance for one call: the resolver of HTTP clients without a fixed base URL. */
  async resolve(service: string): Promise<Endpoint> {
    const watched = this.#watch(service);
    await watched.loaded;
    const now = Date.now();
    const healthy = watched.instances.filter((i) => (watched.ejectedUntil.get(i.id) ?? 0) <= now);
    // When every instance failed recently, trying one beats failing without a call.
    const candidates = healthy.length > 0 ? healthy : watched.instances;
    if (candidates.length === 0)
      throw Object.assign(
        new Error(
          `no READY instance of "${service}" in the ${this.#registry.backend} registry (or set clients.${service}.baseUrl)`,
        ),
        {
          code: 'ENOENDPOINT',
        },
      );
    const chosen = this.#pick(watched, candidates);
    watched.outstanding.set(chosen.id, (watched.outstanding.get(chosen.id) ?? 0) + 1);
    return {
      url: chosen.url,
      release: ({ ok }) => {
        watched.outstanding.set(chosen.id, Math.max(0, (watched.outstanding.get(chosen.id) ?? 1) - 1));
        if (!ok) watched.ejectedUntil.set(chosen.id, Date.now() + this.#options.ejectMs);
      },
    };
  }

  close(): void {
    for (const watched of this.#watched.values()) {
      watched.stopWatch();
      clearInterval(watched.timer);
    }
    this.#watched.clear();
  }

  #pick(watched: Watched, candidates: ServiceInstance[]): ServiceInstance {
    const start = watched.next++ % candidates.length;
    if (this.#options.balancing === 'round-robin') return candidates[start] as ServiceInstance;
    let best = candidates[start] as ServiceInstance;
    for (let i = 1; i < candidates.length; i++) {
      const candidate = candidates[(start + i) % candidates.length] as ServiceInstance;
      if ((watched.outstanding.get(candidate.id) ?? 0) < (watched.outstanding.get(best.id) ?? 0))
        best = candidate;
    }
    return best;
  }

  #watch(service: string): Watched {
    let watched = this.#watched.get(service);
    if (watched) return watched;
    const entry: Watched = {
      instances: [],
      loaded: Promise.resolve(),
      reloading: false,
      reloadAgain: false,
      stopWatch: () => {},
      timer: setInterval(() => void this.#reload(service, entry), this.#options.refreshMs).unref(),
      next: 0,
      outstanding: new Map(),
      ejectedUntil: new Map(),
    };
    watched = entry;
    this.#watched.set(service, entry);
    entry.loaded = this.#reload(service, entry);
    entry.stopWatch = this.#registry.watch(service, () => void this.#reload(service, entry));
    return entry;
  }

  async #reload(service: string, watched: Watched): Promise<void> {
    if (watched.reloading) {
      // A change arrived during a read: read once more when it is done.
      watched.reloadAgain = true;
      return;
    }
    watched.reloading = true;
    try {
      watched.instances = callable(await this.#registry.instances(service));
    } catch (error) {
      // Last known good: the cache stays as it was until the registry answers again.
      this.#log.warn(
        { err: error, service },
        'discovery of %s failed; keeping %d cached instances',
        service,
        watched.instances.length,
      );
    } finally {
      watched.reloading = false;
    }
    if (watched.reloadAgain) {
      watched.reloadAgain = false;
      await this.#reload(service, watched);
    }
  }
}
