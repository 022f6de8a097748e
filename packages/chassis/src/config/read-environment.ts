import { readFileSync } from 'node:fs';
import type { ComposedLeaf } from './compose-schema.js';
import type { ConfigViolation } from './config-error.js';
import { describeFormat, isBooleanFormat, numericKind } from './describe-format.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Environment values for the schema's keys, with the variable each one was read from. */
export interface EnvironmentValues {
  values: Record<string, string>;
  /** Schema env name → the variable that supplied it (`DB_PASSWORD` or `DB_PASSWORD_FILE`). */
  sources: Map<string, string>;
}

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Checks raw text (env or flag) for numeric and boolean keys, because convict would turn `"12abc"`
 * into 12, `"1e6"` into 1 and `"no"` into true without a word. Returns the normalised text, or
 * undefined after recording the violation.
 */
export function checkRawValue(
  { key, leaf }: ComposedLeaf,
  raw: string,
  origin: string,
  violations: ConfigViolation[],
): string | undefined {
  const text = raw.trim();
  const kind = numericKind(leaf);
  let problem: string | undefined;
  if (kind === 'integer' && !INTEGER.test(text)) problem = 'not an integer';
  else if (kind === 'number' && !NUMBER.test(text)) problem = 'not a number';
  else if (isBooleanFormat(leaf)) {
    if (TRUE.test(text)) return 'true';
    if (FALSE.test(text)) return 'false';
    problem = 'not a boolean';
  }
  if (problem === undefined) return raw;
  const value = leaf.sensitive ? '[redacted]' : JSON.stringify(raw);
  violations.push({ key, problem, value, origin, expected: describeFormat(leaf) });
  return undefined;
}

/**
 * Picks the schema's variables out of the environment. `X_FILE=/path` reads X from a file (Docker
 * and Kubernetes secrets). Numbers and booleans are checked on the raw text ({@link checkRawValue}).
 */
export function readEnvironment(
  leaves: readonly ComposedLeaf[],
  env: Environment,
  violations: ConfigViolation[],
): EnvironmentValues {
  const values: Record<string, string> = {};
  const sources = new Map<string, string>();
  for (const composed of leaves) {
    const { key, leaf } = composed;
    const fileVar = `${leaf.env}_FILE`;
    let raw = env[leaf.env];
    let source = leaf.env;
    const filePath = env[fileVar];
    if (filePath !== undefined && filePath !== '') {
      if (raw !== undefined) {
        violations.push({
          key,
          problem: `both ${leaf.env} and ${fileVar} are set`,
          origin: `env ${fileVar}`,
        });
        continue;
      }
      try {
        raw = readFileSync(filePath, 'utf8').replace(/\r?\n$/, '');
        source = fileVar;
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        violations.push({
          key,
          problem: `cannot read secret file ${filePath} (${reason})`,
          origin: `env ${fileVar}`,
        });
        continue;
      }
    }
    if (raw === undefined) continue;

    const checked = checkRawValue(composed, raw, `env ${source}`, violations);
    if (checked === undefined) continue;
    values[leaf.env] = checked;
    sources.set(leaf.env, source);
  }
  return { values, sources };
}
