import { isDeepStrictEqual } from 'node:util';
import { Etcd3, type Watcher } from 'etcd3';
import type { RuntimeLayer } from '../config/index.js';

const CALL_TIMEOUT_MS = 3000;

/**
 * The etcd keys `<prefix>/config/<service>/<config key>`, read as a whole into a runtime layer of
 * the configuration. A watch on the prefix says when to read again; a reconnect does too, since
 * changes made while disconnected come with no event.
 */
export class EtcdConfigSource {
  readonly #client: Etcd3;
  readonly #prefix: string;
  #entries: Readonly<Record<string, string>> = {};
  #reading: Promise<boolean> = Promise.resolve(false);
  #watcher: Watcher | undefined;
  #closed = false;

  constructor(options: { endpoints: readonly string[]; prefix: string; service: string }) {
    this.#client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: CALL_TIMEOUT_MS,
      // Reads get a deadline so an unreachable etcd fails them; the watch stream must live on.
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) },
    });
    this.#prefix = `${options.prefix.replace(/\/+$/, '')}/config/${options.service}/`;
  }

  /** The watched key prefix, `/keelson/config/orders/`. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The values of the last successful read, for the configuration to load with. */
  layer(): RuntimeLayer {
    return { source: `etcd ${this.#prefix}`, entries: this.#entries };
  }

  /**
   * Reads every key again; resolves true when the values differ from the last read. Reads run one
   * after another, so an older answer never overwrites a newer one.
   */
  read(): Promise<boolean> {
    const next = this.#reading
      .catch(() => false)
      .then(async () => {
        const all = await this.#client.getAll().prefix(this.#prefix).strings();
        const entries: Record<string, string> = {};
        for (const [key, value] of Object.entries(all)) entries[key.slice(this.#prefix.length)] = value;
        if (isDeepStrictEqual(entries, this.#entries)) return false;
        this.#entries = entries;
        return true;
      });
    this.#reading = next;
    return next;
  }

  /**
   * Calls `onChange` on every put or delete under the prefix and after each (re)connect. The watch
   * connects in the background: while etcd is unreachable it keeps trying, it never fails a start.
   */
  watch(onChange: () => void, onError: (error: Error) => void): void {
    this.#client
      .watch()
      .prefix(this.#prefix)
      .create()
      .then((watcher) => {
        if (this.#closed) return void watcher.cancel().catch(() => undefined);
        this.#watcher = watcher;
        let connected = true;
        watcher.on('put', onChange);
        watcher.on('delete', onChange);
        watcher.on('connected', () => {
          connected = true;
          onChange();
        });
        // Once per outage: the client reports every failed reconnect attempt too.
        watcher.on('disconnected', (error) => {
          if (connected) onError(error);
          connected = false;
        });
        // An error event without a listener would be thrown.
        watcher.on('error', onError);
        // Whatever changed before the watch was in place (etcd was down at start) is read now.
        onChange();
      }, onError);
  }

  async ping(): Promise<void> {
    await this.#client.maintenance.status();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.cancel().catch(() => undefined);
    this.#client.close();
  }
}
