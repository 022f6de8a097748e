import type { SchemaObj } from 'convict';

/** A leaf of a config schema: convict's schema object, with Keelson's conventions on top. */
export interface ConfigLeaf<T = unknown> extends Omit<SchemaObj<T>, 'format' | 'default'> {
  /** What the key is for. Rendered into the configuration reference; required. */
  doc: string;
  default: T;
  format?: SchemaObj<T>['format'];
  /** Environment variable. Derived from the key when omitted: `http.port` → `HTTP_PORT`. */
  env?: string;
  /** Command-line flag without the dashes. Derived from the key when omitted: `--http.port`. */
  arg?: string;
  /** Never printed: redacted in logs, errors, explain output and every endpoint. */
  sensitive?: boolean;
  nullable?: boolean;
  /**
   * May change while the service runs (dynamic configuration): a reload applies the new value and
   * tells `config.onChange` subscribers. Mark a key only when its owner reads it again or subscribes.
   */
  reloadable?: boolean;
}

/** A config schema fragment: nested objects whose leaves are {@link ConfigLeaf}s. */
export interface ConfigSchema {
  [key: string]: ConfigLeaf | ConfigSchema;
}

type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Widen<E>[]
        : T;

type FromFormat<F, D> = F extends StringConstructor
  ? string
  : F extends NumberConstructor
    ? number
    : F extends BooleanConstructor
      ? boolean
      : F extends ArrayConstructor
        ? D extends readonly unknown[]
          ? Widen<D>
          : unknown[]
        : F extends readonly (infer E)[]
          ? E
          : F extends 'port' | 'nat' | 'int' | 'ratio' | 'duration' | 'timestamp'
            ? number
            : F extends 'url' | 'email' | 'ipaddress' | 'windows_named_pipe' | 'port_or_windows_named_pipe'
              ? string
              : Widen<D>;

type LeafValue<L> = L extends { default: infer D; format: infer F }
  ? FromFormat<F, D> | (L extends { nullable: true } ? null : never)
  : L extends { default: infer D }
    ? Widen<D> | (L extends { nullable: true } ? null : never)
    : never;

/** The typed shape of the values a schema describes. */
export type InferConfig<S> = {
  -readonly [K in keyof S]: S[K] extends { doc: string; default: unknown }
    ? LeafValue<S[K]>
    : InferConfig<S[K]>;
};

type Join<K, P> = K extends string ? (P extends string ? `${K}.${P}` : never) : never;

type Depth = [never, 0, 1, 2, 3, 4, 5];

/** Every dotted path of a config shape, down to its leaves (at most six levels deep). */
export type ConfigPath<T, D extends number = 6> = [D] extends [never]
  ? never
  : T extends object
    ? T extends readonly unknown[]
      ? never
      : {
          [K in keyof T & string]: T[K] extends object
            ? T[K] extends readonly unknown[]
              ? K
              : K | Join<K, ConfigPath<T[K], Depth[D]>>
            : K;
        }[keyof T & string]
    : never;

/** The value at a dotted path of a config shape. */
export type ConfigValue<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? ConfigValue<T[H], R>
    : never
  : P extends keyof T
    ? T[P]
    : never;
