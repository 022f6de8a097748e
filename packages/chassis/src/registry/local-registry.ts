import { type FSWatcher, mkdirSync, watch } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir } from './local-registry-dir.js';
import type { Registry } from './registry-port.js';
import { asInstance, type ServiceInstance } from './service-instance.js';

interface LocalRecord {
  instance: ServiceInstance;
  host: string;
  pid: number;
  /** Epoch ms of the last heartbeat. */
  seenAt: number;
}

/**
 * `registry.backend=local`: one JSON file per instance under `<dir>/<service>/`, for several services
 * on one developer machine. A record is live while its heartbeat is younger than the TTL and, on
 * this host, while its process exists: the entry of a killed process disappears at the next read.
 * The directory is private to the user (created 0700; refused when another user owns it or
 * group or others may write to it), and so are the folders and records inside it.
 */
export class LocalRegistry implements Registry {
  readonly backend = 'local';
  readonly #dir: string;
  readonly #ttlMs: number;

  constructor(options: { dir: string; ttlMs: number }) {
    ensurePrivateDir(options.dir);
    this.#dir = options.dir;
    this.#ttlMs = options.ttlMs;
  }

  register(instance: ServiceInstance): Promise<void> {
    return this.#write(instance);
  }

  heartbeat(instance: ServiceInstance): Promise<void> {
    return this.#write(instance);
  }

  async deregister(instance: ServiceInstance): Promise<void> {
    await rm(this.#file(instance.service, instance.id), { force: true });
  }

  async instances(service?: string): Promise<ServiceInstance[]> {
    const services = service ? [service] : await this.#list(this.#dir);
    const found: ServiceInstance[] = [];
    for (const name of services) {
      for (const file of await this.#list(join(this.#dir, name))) {
        if (!file.endsWith('.json')) continue;
        const path = join(this.#dir, name, file);
        const record = await readFile(path, 'utf8').then(parseRecord, () => undefined);
        if (record && this.#alive(record)) found.push(record.instance);
        else if (record) await rm(path, { force: true });
      }
    }
    return found;
  }

  watch(service: string, onChange: () => void): () => void {
    const dir = join(this.#dir, service);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dir, { persistent: false }, () => onChange());
      watcher.on('error', () => watcher?.close());
    } catch {
      // No file notifications here: discovery's periodic refresh still runs.
    }
    return () => watcher?.close();
  }

  async ping(): Promise<void> {
    await this.#list(this.#dir);
  }

  async close(): Promise<void> {}

  async #write(instance: ServiceInstance): Promise<void> {
    const dir = join(this.#dir, instance.service);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const record: LocalRecord = { instance, host: hostname(), pid: process.pid, seenAt: Date.now() };
    // Write then rename, so a reader never sees half a record.
    const target = this.#file(instance.service, instance.id);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
    await rename(temporary, target);
  }

  #file(service: string, id: string): string {
    return join(this.#dir, service, `${encodeURIComponent(id)}.json`);
  }

  #alive(record: LocalRecord): boolean {
    if (Date.now() - record.seenAt > this.#ttlMs) return false;
    if (record.host !== hostname()) return true;
    try {
      process.kill(record.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  async #list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

function parseRecord(text: string): LocalRecord | undefined {
  try {
    const record = JSON.parse(text) as LocalRecord;
    const instance = asInstance(record.instance);
    if (!instance || typeof record.seenAt !== 'number' || typeof record.pid !== 'number') return undefined;
    return { ...record, instance };
  } catch {
    return undefined;
  }
}
