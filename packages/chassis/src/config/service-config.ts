import type { ConfigPath, ConfigValue } from './schema-types.js';

/** One key as `keelson config explain` shows it. */
export interface ConfigEntry {
  key: string;
  /** The effective value; `[redacted]` for sensitive keys. */
  value: unknown;
  /** `default`, `file config/local.json`, `code`, `env HTTP_PORT`, `env DB_PASSWORD_FILE` or `flag --http.port`. */
  origin: string;
  /** The plugin (or `service`) whose schema declares the key. */
  owner: string;
  doc: string;
  format: string;
  default: unknown;
  env: string;
  flag: string;
  sensitive: boolean;
}

/** The validated, immutable configuration of one service, with typed access by dotted path. */
export interface ServiceConfig<T> {
  /** The value at a dotted path: `config.get('http.port')`. */
  get<P extends ConfigPath<T>>(path: P): ConfigValue<T, P>;
  /** Every key with its redacted value, origin and documentation. */
  explain(): readonly ConfigEntry[];
  redacted(): Record<string, unknown>;
}

export function createServiceConfig<T>(values: T, entries: readonly ConfigEntry[]): ServiceConfig<T> {
  return new FrozenConfig(values, entries) as unknown as ServiceConfig<T>;
}

class FrozenConfig {
  readonly #values: unknown;
  readonly #entries: readonly ConfigEntry[];

  constructor(values: unknown, entries: readonly ConfigEntry[]) {
    this.#values = deepFreeze(values);
    this.#entries = entries;
  }

  get(path: string): unknown {
    let node: unknown = this.#values;
    for (const part of path.split('.')) {
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) {
        throw new Error(`Unknown config key "${path}"`);
      }
      node = (node as Record<string, unknown>)[part];
    }
    return node;
  }

  explain(): readonly ConfigEntry[] {
    return this.#entries;
  }

  redacted(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const entry of this.#entries) {
      const parts = entry.key.split('.');
      let node = out;
      for (const part of parts.slice(0, -1)) {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
      node[parts.at(-1) as string] = entry.value;
    }
    return out;
  }

  /** JSON.stringify and loggers see the redacted view, never the secrets. */
  toJSON(): Record<string, unknown> {
    return this.redacted();
  }
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
