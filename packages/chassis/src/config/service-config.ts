import { isDeepStrictEqual } from 'node:util';
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
  /** Whether a reload may change it while the service runs. */
  reloadable: boolean;
}

/** A key whose value a reload changed. Sensitive values read `[redacted]`: `config.get` has the real one. */
export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
}

export type ConfigChangeListener = (changes: readonly ConfigChange[]) => void | Promise<void>;

/**
 * Values set at run time, from a key-value store: above code overrides, below env and flags.
 * Each entry is a dotted config key and its value as JSON text.
 */
export interface RuntimeLayer {
  /** Starts the origin of each key: `etcd /keelson/config/orders/` gives `etcd /keelson/config/orders/log.level`. */
  source: string;
  entries: Readonly<Record<string, string>>;
}

export interface ReloadOptions {
  /** The runtime layer to load with; the one of the last successful load when omitted. */
  runtime?: RuntimeLayer;
  /** Told about a change listener that threw or rejected; the change stays applied. */
  onListenerError?: (error: unknown) => void;
}

/** What a successful reload did. */
export interface ConfigReload {
  /** Reloadable keys whose new value is now in effect, in key order. */
  changed: readonly ConfigChange[];
  /** Keys whose value differs in the sources but that are not reloadable: they keep the running value until a restart. */
  ignored: readonly string[];
}

/** How a configuration loads itself again: the same sources, files read anew. */
export interface ConfigSource<T> {
  /** Where the config files are read from; undefined when there are none. */
  configDir: string | undefined;
  /** Loads and validates everything again; throws a ConfigError listing every problem. */
  load(runtime?: RuntimeLayer): ServiceConfig<T>;
}

/**
 * The validated configuration of one service, with typed access by dotted path. Values are frozen;
 * only keys marked `reloadable` change, and only through {@link ServiceConfig.reload}.
 */
export interface ServiceConfig<T> {
  /** The value at a dotted path: `config.get('http.port')`. */
  get<P extends ConfigPath<T>>(path: P): ConfigValue<T, P>;
  /** Every key with its redacted value, origin and documentation. */
  explain(): readonly ConfigEntry[];
  redacted(): Record<string, unknown>;
  /**
   * Calls the listener after a reload changed reloadable keys, with every changed key at once.
   * Returns a function that removes it.
   */
  onChange(listener: ConfigChangeListener): () => void;
  /** Where config files are read from; undefined when there are none. */
  readonly configDir: string | undefined;
  /**
   * Loads the configuration again from the same sources and validates it as a whole. Invalid: throws
   * the ConfigError and nothing changes. Valid: applies the reloadable keys that changed, tells the
   * listeners, and reports changed non-reloadable keys as ignored.
   */
  reload(options?: ReloadOptions): ConfigReload;
}

export function createServiceConfig<T>(
  values: T,
  entries: readonly ConfigEntry[],
  source?: ConfigSource<T>,
): ServiceConfig<T> {
  return new FrozenConfig(
    values,
    entries,
    source as ConfigSource<unknown> | undefined,
  ) as unknown as ServiceConfig<T>;
}

// Values are deep-frozen and replaced as a whole on reload: a reader never sees half a change.
class FrozenConfig {
  #values: unknown;
  #entries: readonly ConfigEntry[];
  #source: ConfigSource<unknown> | undefined;
  readonly #listeners = new Set<ConfigChangeListener>();

  constructor(values: unknown, entries: readonly ConfigEntry[], source: ConfigSource<unknown> | undefined) {
    this.#values = deepFreeze(values);
    this.#entries = entries;
    this.#source = source;
  }

  get configDir(): string | undefined {
    return this.#source?.configDir;
  }

  onChange(listener: ConfigChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  reload(options: ReloadOptions = {}): ConfigReload {
    if (!this.#source)
      throw new Error('This configuration was not loaded from sources: there is nothing to reload');
    const next = this.#source.load(options.runtime) as unknown as FrozenConfig;
    const nextEntries = new Map(next.#entries.map((e) => [e.key, e]));
    const changed: ConfigChange[] = [];
    const ignored: string[] = [];
    const values = structuredClone(this.#values) as Record<string, unknown>;
    const entries = this.#entries.map((entry) => {
      const fresh = nextEntries.get(entry.key);
      if (!fresh) return entry;
      const from = this.get(entry.key);
      const to = next.get(entry.key);
      if (isDeepStrictEqual(from, to)) return fresh;
      if (!entry.reloadable) {
        ignored.push(entry.key);
        return entry;
      }
      setAt(values, entry.key, to);
      const shown = (value: unknown) => (entry.sensitive ? '[redacted]' : value);
      changed.push({ key: entry.key, from: shown(from), to: shown(to) });
      return fresh;
    });
    if (changed.length > 0) this.#values = deepFreeze(values);
    this.#entries = entries;
    // The next reload keeps this one's runtime layer unless it is given another.
    this.#source = next.#source;
    if (changed.length > 0) this.#notify(changed, options.onListenerError);
    return { changed, ignored };
  }

  #notify(changes: readonly ConfigChange[], onError = reportListenerError): void {
    for (const listener of this.#listeners) {
      try {
        const result = listener(changes);
        // An async listener that rejects must not become an unhandled rejection.
        if (result instanceof Promise) result.catch(onError);
      } catch (error) {
        onError(error);
      }
    }
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

function reportListenerError(error: unknown): void {
  process.emitWarning(`A config change listener failed: ${String(error)}`);
}

function setAt(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts.at(-1) as string] = structuredClone(value);
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
