import convict from 'convict';
import type { ConfigLeaf } from './schema-types.js';

/** The format a leaf expects, in words, for error messages and the configuration reference. */
export function describeFormat(leaf: ConfigLeaf): string {
  const format = leaf.format ?? inferFormat(leaf.default);
  let text: string;
  if (Array.isArray(format)) text = `one of ${format.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (format === String) text = 'a string';
  else if (format === Number) text = 'a number';
  else if (format === Boolean) text = 'true or false';
  else if (format === Array) text = 'a list (JSON array, or comma-separated in env/flags)';
  else if (format === Object) text = 'an object';
  else if (typeof format === 'string') text = NAMED_FORMATS[format] ?? `format "${format}"`;
  else text = 'a value the custom validator accepts';
  return leaf.nullable ? `${text}, or null` : text;
}

/**
 * Adds a named format for schema leaves (`format: 'database-url'`): convict validates with it, and
 * the description appears in error messages and the configuration reference.
 */
export function addConfigFormat(format: {
  name: string;
  description: string;
  validate(value: unknown): void;
  coerce?(value: unknown): unknown;
}): void {
  convict.addFormat({
    name: format.name,
    validate: format.validate,
    ...(format.coerce ? { coerce: format.coerce } : {}),
  });
  NAMED_FORMATS[format.name] = format.description;
}

const NAMED_FORMATS: Record<string, string> = {
  '*': 'any value',
  port: 'a port number (0-65535)',
  nat: 'a natural number (integer ≥ 0)',
  int: 'an integer',
  url: 'a URL',
  email: 'an e-mail address',
  ipaddress: 'an IPv4 or IPv6 address',
  duration: 'a duration in milliseconds, or a string like "5 seconds"',
  timestamp: 'a timestamp',
};

function inferFormat(value: unknown): ConfigLeaf['format'] {
  if (typeof value === 'string') return String;
  if (typeof value === 'number') return Number;
  if (typeof value === 'boolean') return Boolean;
  if (Array.isArray(value)) return Array;
  return '*';
}

/** Formats whose raw text must be numeric before convict coerces it: `integer`, `number` or none. */
export function numericKind(leaf: ConfigLeaf): 'integer' | 'number' | undefined {
  const format = leaf.format ?? inferFormat(leaf.default);
  if (format === 'port' || format === 'nat' || format === 'int') return 'integer';
  return format === Number || format === 'ratio' ? 'number' : undefined;
}

export function isBooleanFormat(leaf: ConfigLeaf): boolean {
  return (leaf.format ?? inferFormat(leaf.default)) === Boolean;
}
