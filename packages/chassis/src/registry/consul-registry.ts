import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Registry } from './registry-port.js';
import type { InstanceState, ServiceInstance } from './service-instance.js';

const CALL_TIMEOUT_MS = 3000;
const WATCH_WAIT_SECONDS = 30;
/** Consul's reaper runs about once a minute, so a shorter deregistration delay is not honoured. */
const MIN_DEREGISTER_AFTER_SECONDS = 60;
/** Our fields in the instance's `Meta`; the rest of `Meta` is the user's `registry.metadata`. */
const META_PREFIX = 'keelson_';

export interface ConsulRegistryOptions {
  /** Agent base URL, e.g. `http://127.0.0.1:8500`. */
  url: string;
  /** ACL token sent as `X-Consul-Token`; empty for none. */
  token: string;
  ttlMs: number;
  /** Seconds a critical instance stays before the agent removes it (at least 60). */
  deregisterCriticalAfterSeconds: number;
  log: Logger;
}

interface ConsulHealthEntry {
  Service: {
    ID: string;
    Service: string;
    Tags: string[] | null;
    Address: string;
    Port: number;
    Meta: Record<string, string> | null;
  };
  Checks: { CheckID: string; ServiceID: string; Status: string }[];
}

/**
 * `registry.backend=consul`, on the local agent's HTTP API: the instance is registered with a TTL
 * check that the heartbeat passes (or fails, when readiness failed) and with
 * `DeregisterCriticalServiceAfter`, so a crashed instance is first critical, then gone. On drain it
 * goes into maintenance (out of every passing query at once) and is then deregistered. When the agent
 * forgot the check (agent restarted without its state), the heartbeat registers it again.
 */
export class ConsulRegistry implements Registry {
  readonly backend = 'consul';
  readonly #options: ConsulRegistryOptions;
  readonly #base: string;

  constructor(options: ConsulRegistryOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, '');
  }

  async register(instance: ServiceInstance): Promise<void> {
    const deregisterAfter = Math.max(
      MIN_DEREGISTER_AFTER_SECONDS,
      this.#options.deregisterCriticalAfterSeconds,
    );
    await this.#call('PUT', '/v1/agent/service/register?replace-existing-checks=true', {
      ID: instance.id,
      Name: instance.service,
      Tags: instance.tags,
      Address: instance.address,
      Port: instance.port,
      Meta: {
        ...instance.metadata,
        [`${META_PREFIX}version`]: instance.version,
        [`${META_PREFIX}url`]: instance.url,
        [`${META_PREFIX}health_url`]: instance.healthUrl,
        [`${META_PREFIX}metrics_url`]: instance.metricsUrl,
        [`${META_PREFIX}registered_at`]: instance.registeredAt,
      },
      Check: {
        CheckID: checkId(instance),
        Name: `${instance.service} readiness (reported by the instance)`,
        // Consul reads Go durations: the TTL to the millisecond.
        TTL: ttlDuration(this.#options.ttlMs),
        Status: instance.state === 'READY' ? 'passing' : 'critical',
        DeregisterCriticalServiceAfter: `${deregisterAfter}s`,
      },
    });
  }

  async heartbeat(instance: ServiceInstance): Promise<void> {
    const verdict = instance.state === 'READY' ? 'pass' : 'fail';
    const note = encodeURIComponent(`state ${instance.state}`);
    const response = await this.#send(
      'PUT',
      `/v1/agent/check/${verdict}/${encodeURIComponent(checkId(instance))}?note=${note}`,
    );
    if (response.ok) return;
    const text = await response.text();
    // The agent answers 404 (older versions 500) for a check it does not know: register again.
    if (response.status === 404 || /unknown check|does not have associated ttl/i.test(text)) {
      this.#options.log.warn(
        { service: instance.service },
        'consul agent forgot the instance: registering again',
      );
      return this.register(instance);
    }
    throw consulError(response.status, text, 'check update');
  }

  async deregister(instance: ServiceInstance): Promise<void> {
    const id = encodeURIComponent(instance.id);
    // Maintenance first: the instance leaves every passing query at once, even if the removal fails.
    await this.#call(
      'PUT',
      `/v1/agent/service/maintenance/${id}?enable=true&reason=${encodeURIComponent('draining')}`,
    );
    await this.#call('PUT', `/v1/agent/service/deregister/${id}`);
  }

  async instances(service?: string): Promise<ServiceInstance[]> {
    const names = service
      ? [service]
      : Object.keys(
          (await (await this.#call('GET', '/v1/catalog/services')).json()) as Record<string, unknown>,
        );
    const found: ServiceInstance[] = [];
    for (const name of names) {
      const response = await this.#call('GET', `/v1/health/service/${encodeURIComponent(name)}`);
      for (const entry of (await response.json()) as ConsulHealthEntry[]) {
        const instance = toInstance(entry);
        if (instance) found.push(instance);
      }
    }
    return found;
  }

  watch(service: string, onChange: () => void): () => void {
    const abort = new AbortController();
    void this.#watchLoop(service, onChange, abort.signal);
    return () => abort.abort();
  }

  async ping(): Promise<void> {
    const leader = (await (await this.#call('GET', '/v1/status/leader')).json()) as string;
    if (!leader) throw new Error('consul has no cluster leader');
  }

  async close(): Promise<void> {}

  /** Blocking queries: each answer returns when the service's health changed or after the wait. */
  async #watchLoop(service: string, onChange: () => void, signal: AbortSignal): Promise<void> {
    let index = '0';
    let backoffMs = 500;
    while (!signal.aborted) {
      try {
        const response = await this.#send(
          'GET',
          `/v1/health/service/${encodeURIComponent(service)}?index=${index}&wait=${WATCH_WAIT_SECONDS}s`,
          undefined,
          AbortSignal.any([signal, AbortSignal.timeout((WATCH_WAIT_SECONDS + 5) * 1000)]),
        );
        await response.arrayBuffer();
        if (!response.ok) throw consulError(response.status, '', 'watch');
        const next = response.headers.get('x-consul-index') ?? '0';
        // An index going backwards (agent restarted) means start over, as Consul's docs advise.
        if (next !== index && index !== '0') onChange();
        index = Number(next) < Number(index) ? '0' : next;
        backoffMs = 500;
      } catch {
        if (signal.aborted) return;
        await delay(backoffMs, undefined, { signal }).catch(() => {});
        backoffMs = Math.min(backoffMs * 2, 30_000);
        index = '0';
        onChange();
      }
    }
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await this.#send(method, path, body);
    if (!response.ok) throw consulError(response.status, await response.text(), `${method} ${path}`);
    return response;
  }

  #send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#options.token) headers['x-consul-token'] = this.#options.token;
    return fetch(`${this.#base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ?? AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  }
}

function checkId(instance: ServiceInstance): string {
  return `service:${instance.id}`;
}

function consulError(status: number, text: string, what: string): Error {
  return new Error(`consul ${what} answered ${status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`);
}

/** An instance from a health entry; undefined for services Keelson did not register. */
function toInstance(entry: ConsulHealthEntry): ServiceInstance | undefined {
  const { Service: service, Checks: checks } = entry;
  const meta = service.Meta ?? {};
  const url = meta[`${META_PREFIX}url`];
  if (!url) return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) if (!key.startsWith(META_PREFIX)) metadata[key] = value;
  return {
    service: service.Service,
    id: service.ID,
    url,
    address: service.Address,
    port: service.Port,
    version: meta[`${META_PREFIX}version`] ?? '',
    state: stateOf(service.ID, checks),
    healthUrl: meta[`${META_PREFIX}health_url`] ?? '',
    metricsUrl: meta[`${META_PREFIX}metrics_url`] ?? '',
    tags: service.Tags ?? [],
    metadata,
    registeredAt: meta[`${META_PREFIX}registered_at`] ?? '',
  };
}

function stateOf(serviceId: string, checks: ConsulHealthEntry['Checks']): InstanceState {
  if (checks.some((c) => c.CheckID === `_service_maintenance:${serviceId}`)) return 'DRAINING';
  // Every check must pass: the node's own (serfHealth) as well as the instance's.
  return checks.every((c) => c.Status === 'passing') ? 'READY' : 'DOWN';
}

/** `10s`, or `10500ms` when the TTL is not a whole number of seconds. */
function ttlDuration(ttlMs: number): string {
  return ttlMs % 1000 === 0 ? `${ttlMs / 1000}s` : `${ttlMs}ms`;
}
