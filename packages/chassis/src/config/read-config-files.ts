import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ConfigViolation } from './config-error.js';

/** A parsed config file and the name it is reported under. */
export interface ConfigFile {
  name: string;
  values: Record<string, unknown>;
}

/**
 * Reads `default.json`, `<NODE_ENV>.json` and `local.json` from the config directory, in that
 * order of precedence (later wins). Missing files are skipped; unreadable ones are violations.
 */
export function readConfigFiles(
  configDir: string,
  nodeEnv: string,
  violations: ConfigViolation[],
): ConfigFile[] {
  const files: ConfigFile[] = [];
  for (const base of ['default', nodeEnv, 'local']) {
    const path = join(configDir, `${base}.json`);
    const name = relative(process.cwd(), path) || path;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      violations.push({
        key: name,
        problem: `cannot read file: ${(error as Error).message}`,
        origin: `file ${name}`,
      });
      continue;
    }
    try {
      const values: unknown = JSON.parse(text);
      if (values === null || typeof values !== 'object' || Array.isArray(values)) {
        throw new Error('the top level must be an object');
      }
      files.push({ name, values: values as Record<string, unknown> });
    } catch (error) {
      violations.push({
        key: name,
        problem: `invalid JSON: ${(error as Error).message}`,
        origin: `file ${name}`,
      });
    }
  }
  return files;
}

/** The value at a dotted path of a nested object, or undefined. */
export function valueAt(object: unknown, key: string): unknown {
  let node = object;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
