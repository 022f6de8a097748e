import { Etcd3, type Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { Registry } from './registry-port.js';
import { parseInstance, type ServiceInstance } from './service-instance.js';

const CALL_TIMEOUT_MS = 3000;

/**
 * `registry.backend=etcd`: the record under `<prefix><service>/<id>`, bound to a lease with the TTL
 * and kept alive by the client. When the lease is lost (etcd restarted, a partition longer than the
 * TTL) the next heartbeat grants a new one and writes the record again.
 */
export class EtcdRegistry implements Registry {
  readonly backend = 'etcd';
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #ttlSeconds: number;
  readonly #log: Logger;
  #lease: Lease | undefined;

  constructor(options: { endpoints: string[]; prefix: string; ttlMs: number; log: Logger }) {
    // Checked first: a wrong TTL stops the service before it opens a connection.
    const ttlSeconds = leaseSeconds(options.ttlMs);
    this.#client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: CALL_TIMEOUT_MS,
      // Unary calls get a deadline, so an unreachable etcd fails a heartbeat instead of hanging it;
      // watch streams must live on.
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) },
    });
    this.#prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.#ttlSeconds = ttlSeconds;
    this.#log = options.log;
  }

  async register(instance: ServiceInstance): Promise<void> {
    if (!this.#lease || this.#lease.revoked()) this.#lease = this.#newLease();
    await this.#lease.put(this.#key(instance)).value(JSON.stringify(instance));
  }

  async heartbeat(instance: ServiceInstance): Promise<void> {
    if (!this.#lease || this.#lease.revoked()) {
      this.#log.warn({ service: instance.service }, 'etcd lease lost: registering again');
      this.#lease = undefined;
    }
    // Re-put when the key is gone (lease lost, or the record deleted by hand).
    const current = await this.#client.get(this.#key(instance)).string();
    if (current === null || !this.#lease) await this.register(instance);
  }

  async deregister(instance: ServiceInstance): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await this.#client.delete().key(this.#key(instance));
    if (lease && !lease.revoked()) await lease.revoke().catch(() => lease.release());
  }

  async instances(service?: string): Promise<ServiceInstance[]> {
    const values = await this.#client
      .getAll()
      .prefix(service ? `${this.#prefix}${service}/` : this.#prefix)
      .strings();
    return Object.values(values).flatMap((text) => parseInstance(text) ?? []);
  }

  watch(service: string, onChange: () => void): () => void {
    let stopped = false;
    const watcher = this.#client.watch().prefix(`${this.#prefix}${service}/`).create();
    watcher
      .then((w) => {
        if (stopped) return void w.cancel();
        w.on('put', onChange);
        w.on('delete', onChange);
        // After a reconnect, changes made meanwhile are only seen by reading again.
        w.on('connected', onChange);
        w.on('error', () => {});
      })
      .catch(() => {});
    return () => {
      stopped = true;
      void watcher.then((w) => w.cancel()).catch(() => {});
    };
  }

  async ping(): Promise<void> {
    await this.#client.maintenance.status();
  }

  async close(): Promise<void> {
    this.#lease?.release();
    this.#client.close();
  }

  #newLease(): Lease {
    const lease = this.#client.lease(this.#ttlSeconds);
    lease.on('lost', (error) => {
      this.#log.warn({ err: error }, 'etcd lease lost');
      if (this.#lease === lease) this.#lease = undefined;
    });
    // etcd raises a TTL below its minimum (2 s with its default election timeout) without a word:
    // say what a crashed instance's record really lives for.
    lease
      .grant()
      .then(() => lease.keepaliveOnce())
      .then(({ TTL }) => {
        if (Number(TTL) !== this.#ttlSeconds)
          this.#log.warn(
            { requestedTtlMs: this.#ttlSeconds * 1000, grantedTtlMs: Number(TTL) * 1000 },
            'etcd granted a lease of %d s instead of registry.ttlMs (its minimum lease TTL)',
            Number(TTL),
          );
      })
      .catch(() => {});
    return lease;
  }

  #key(instance: ServiceInstance): string {
    return `${this.#prefix}${instance.service}/${instance.id}`;
  }
}

/** etcd leases count whole seconds: a TTL it cannot honour is refused, not rounded. */
function leaseSeconds(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs % 1000 !== 0)
    throw new RangeError(
      `registry.ttlMs=${ttlMs} cannot be used with registry.backend=etcd: etcd leases count whole seconds; set a multiple of 1000 ms (for example ${Math.max(1000, Math.ceil(ttlMs / 1000) * 1000)})`,
    );
  return ttlMs / 1000;
}
