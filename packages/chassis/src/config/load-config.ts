import convict from 'convict';
import yargsParser from 'yargs-parser';
import type { ComposedLeaf, ComposedSchema } from './compose-schema.js';
import { ConfigError, type ConfigViolation } from './config-error.js';
import { addConfigFormat, describeFormat } from './describe-format.js';
import { type ConfigFile, readConfigFiles, valueAt } from './read-config-files.js';
import { checkRawValue, type Environment, readEnvironment } from './read-environment.js';
import {
  type ConfigEntry,
  createServiceConfig,
  type RuntimeLayer,
  type ServiceConfig,
} from './service-config.js';

// A share between 0 and 1 (sampling ratios, budgets); convict has no format for it.
addConfigFormat({
  name: 'ratio',
  description: 'a number from 0 to 1',
  validate(value: unknown) {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error('must be between 0 and 1');
  },
  coerce: Number,
});

export interface LoadConfigOptions {
  schema: ComposedSchema;
  /** Directory holding `default.json`, `<NODE_ENV>.json` and `local.json`; no files when omitted. */
  configDir?: string;
  env: Environment;
  /** Command-line arguments without node and the script (`process.argv.slice(2)`). */
  argv: readonly string[];
  /** Values set in code; above the files, below env and flags. */
  overrides?: Record<string, unknown>;
  /** Values set at run time (dynamic configuration): above code overrides, below env and flags. */
  runtime?: RuntimeLayer;
}

/**
 * Loads configuration with the precedence defaults < config/default.json < config/<NODE_ENV>.json <
 * config/local.json < code overrides < runtime layer < environment < flags, validates it strictly
 * and throws one {@link ConfigError} that lists every violation. The result can load itself again
 * from the same options (`config.reload()`).
 */
export function loadConfig<T>(options: LoadConfigOptions): ServiceConfig<T> {
  const { schema, env, argv, overrides, runtime } = options;
  const violations: ConfigViolation[] = [];
  const environment = readEnvironment(schema.leaves, env, violations);
  const flags = yargsParser([...argv], { configuration: { 'dot-notation': false } }) as Record<
    string,
    unknown
  >;
  checkFlags(schema.leaves, flags, violations);
  const files =
    options.configDir === undefined
      ? []
      : readConfigFiles(
          options.configDir,
          selectedEnvironment(schema.leaves, flags, environment.values, env),
          violations,
        );

  const runtimeValues = runtime ? parseRuntime(runtime, schema.leaves, violations) : undefined;

  const config = convict(schema.schema as convict.Schema<T>, { env: environment.values, args: [...argv] });
  for (const file of files) config.load(file.values);
  if (overrides) config.load(overrides);
  if (runtimeValues) config.load(runtimeValues);

  const originOf = (key: string, leaf?: ComposedLeaf['leaf']): string => {
    if (leaf && flags[leaf.arg] !== undefined) return `flag --${leaf.arg}`;
    if (leaf && environment.sources.has(leaf.env)) return `env ${environment.sources.get(leaf.env)}`;
    if (runtime && valueAt(runtimeValues, key) !== undefined) return `${runtime.source}${key}`;
    if (overrides && valueAt(overrides, key) !== undefined) return 'code';
    const file = lastFileWith(files, key);
    return file ? `file ${file.name}` : 'default';
  };

  const byKey = new Map(schema.leaves.map((l) => [l.key, l]));
  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    for (const line of (error as Error).message.split('\n')) {
      violations.push(
        toViolation(line, byKey, originOf, flags, environment.values, files, overrides, runtimeValues),
      );
    }
  }
  // A flag rejected on its raw text reaches convict too, which reports it a second time.
  const unique = dedupe(violations);
  if (unique.length > 0) throw new ConfigError(unique);

  const entries: ConfigEntry[] = schema.leaves
    .map(({ key, owner, leaf }) => ({
      key,
      value: leaf.sensitive ? '[redacted]' : (config.get(key as never) as unknown),
      origin: originOf(key, leaf),
      owner,
      doc: leaf.doc,
      format: describeFormat(leaf),
      default: leaf.sensitive ? '[redacted]' : leaf.default,
      env: leaf.env,
      flag: `--${leaf.arg}`,
      sensitive: leaf.sensitive === true,
      reloadable: leaf.reloadable === true,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return createServiceConfig<T>(config.getProperties() as T, entries, {
    configDir: options.configDir,
    load: (next) => loadConfig<T>({ ...options, ...(next ? { runtime: next } : {}) }),
  });
}

const UNSAFE_PARTS = new Set(['__proto__', 'constructor', 'prototype']);

/** The runtime layer's JSON texts as one nested object; text that is not JSON is a violation. */
function parseRuntime(
  runtime: RuntimeLayer,
  leaves: readonly ComposedLeaf[],
  violations: ConfigViolation[],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(runtime.entries)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const sensitive = leaves.find((l) => l.key === key)?.leaf.sensitive === true;
      violations.push({
        key,
        problem: `invalid JSON (${(error as Error).message}); a string needs quotes: "text"`,
        origin: `${runtime.source}${key}`,
        value: sensitive ? '[redacted]' : JSON.stringify(text),
      });
      continue;
    }
    const parts = key.split('.');
    // A key names config, never an object's prototype.
    if (parts.some((part) => part === '' || UNSAFE_PARTS.has(part))) {
      violations.push({ key, problem: 'not a known configuration key', origin: `${runtime.source}${key}` });
      continue;
    }
    let node = values;
    for (const part of parts.slice(0, -1)) {
      const child = Object.hasOwn(node, part) ? node[part] : undefined;
      node[part] = child !== null && typeof child === 'object' && !Array.isArray(child) ? child : {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1) as string] = value;
  }
  return values;
}

function lastFileWith(files: readonly ConfigFile[], key: string): ConfigFile | undefined {
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i];
    if (file && valueAt(file.values, key) !== undefined) return file;
  }
  return undefined;
}

/**
 * The environment that picks `config/<env>.json`: the `env` key from a flag or the environment
 * (NODE_ENV, or NODE_ENV_FILE), never from a file, since the files are what it selects.
 */
function selectedEnvironment(
  leaves: readonly ComposedLeaf[],
  flags: Record<string, unknown>,
  schemaEnv: Record<string, string>,
  rawEnv: Environment,
): string {
  const leaf = leaves.find((l) => l.key === 'env')?.leaf;
  const fromFlag = leaf ? flags[leaf.arg] : undefined;
  if (typeof fromFlag === 'string' && fromFlag !== '') return fromFlag;
  return (leaf ? schemaEnv[leaf.env] : rawEnv.NODE_ENV) ?? 'development';
}

/** Flags get the same raw checks as environment variables. */
function checkFlags(
  leaves: readonly ComposedLeaf[],
  flags: Record<string, unknown>,
  violations: ConfigViolation[],
) {
  for (const composed of leaves) {
    const raw = flags[composed.leaf.arg];
    if (raw !== undefined && typeof raw !== 'object') {
      checkRawValue(composed, String(raw), `flag --${composed.leaf.arg}`, violations);
    }
  }
}

// Convict leaves out ": value was …" for sensitive keys and falsy values.
const CONVICT_LINE = /^(\S+): (.*?)(?:: value was (.*))?$/s;
const UNDECLARED = /^configuration param '(.+)' not declared in the schema$/;

function toViolation(
  line: string,
  byKey: ReadonlyMap<string, ComposedLeaf>,
  originOf: (key: string, leaf?: ComposedLeaf['leaf']) => string,
  flags: Record<string, unknown>,
  env: Record<string, string>,
  files: readonly ConfigFile[],
  overrides: Record<string, unknown> | undefined,
  runtimeValues: Record<string, unknown> | undefined,
): ConfigViolation {
  const undeclared = UNDECLARED.exec(line);
  if (undeclared?.[1]) {
    const key = undeclared[1];
    return { key, problem: 'not a known configuration key', origin: originOf(key) };
  }
  const match = CONVICT_LINE.exec(line);
  const key = match?.[1] ?? line;
  const composed = byKey.get(key);
  if (!match || !composed) return { key, problem: match?.[2] ?? line, origin: 'unknown' };
  const { leaf } = composed;
  const origin = originOf(key, leaf);
  let raw: unknown;
  if (origin.startsWith('flag')) raw = flags[leaf.arg];
  else if (origin.startsWith('env')) raw = env[leaf.env];
  else if (origin === 'code') raw = valueAt(overrides, key);
  else if (runtimeValues && valueAt(runtimeValues, key) !== undefined) raw = valueAt(runtimeValues, key);
  else if (origin.startsWith('file')) raw = valueAt(lastFileWith(files, key)?.values, key);
  else raw = leaf.default;
  return {
    key,
    problem: match[2] ?? 'invalid',
    value: leaf.sensitive ? '[redacted]' : JSON.stringify(raw),
    origin,
    expected: describeFormat(leaf),
  };
}

function dedupe(violations: readonly ConfigViolation[]): ConfigViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    if (seen.has(v.key)) return false;
    seen.add(v.key);
    return true;
  });
}
