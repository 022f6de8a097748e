import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeSchema } from './compose-schema.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import type { ConfigSchema } from './schema-types.js';

const schema = {
  http: {
    port: { doc: 'Port', format: 'port', default: 3000 },
    host: { doc: 'Host', format: String, default: 'localhost' },
  },
  mode: { doc: 'Mode', format: ['fast', 'slow'], default: 'fast' },
  verbose: { doc: 'Verbose', format: Boolean, default: false },
  db: { password: { doc: 'Password', format: String, default: '', sensitive: true } },
} as const satisfies ConfigSchema;

type Shape = {
  http: { port: number; host: string };
  mode: 'fast' | 'slow';
  verbose: boolean;
  db: { password: string };
};

function configDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-config-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function load(options: {
  files?: Record<string, unknown>;
  env?: Record<string, string>;
  argv?: string[];
  overrides?: Record<string, unknown>;
}) {
  return loadConfig<Shape>({
    schema: composeSchema([{ owner: 'test', schema }]),
    configDir: configDir(options.files ?? {}),
    env: options.env ?? {},
    argv: options.argv ?? [],
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
}

function violationsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig precedence', () => {
  const files = {
    'default.json': { http: { port: 1001, host: 'from-default' }, mode: 'slow' },
    'production.json': { http: { port: 1002 } },
    'local.json': { http: { port: 1003 } },
  };

  it('uses schema defaults when nothing else is given', () => {
    const config = load({});
    expect(config.get('http.port')).toBe(3000);
    expect(config.explain().find((e) => e.key === 'http.port')?.origin).toBe('default');
  });

  it('layers default.json < <NODE_ENV>.json < local.json < code < env < flags', () => {
    const env = { NODE_ENV: 'production' };
    expect(load({ files: { 'default.json': files['default.json'] }, env }).get('http.port')).toBe(1001);
    expect(load({ files: { ...files, 'local.json': '{}' }, env }).get('http.port')).toBe(1002);
    expect(load({ files, env }).get('http.port')).toBe(1003);
    expect(load({ files, env, overrides: { http: { port: 1004 } } }).get('http.port')).toBe(1004);
    const withEnv = load({ files, env: { ...env, HTTP_PORT: '1005' }, overrides: { http: { port: 1004 } } });
    expect(withEnv.get('http.port')).toBe(1005);
    const withFlag = load({ files, env: { ...env, HTTP_PORT: '1005' }, argv: ['--http.port', '1006'] });
    expect(withFlag.get('http.port')).toBe(1006);
    // Keys a higher layer does not mention keep the lower layer's value.
    expect(withFlag.get('http.host')).toBe('from-default');
    expect(withFlag.get('mode')).toBe('slow');
  });

  it('reports the origin of every key', () => {
    const config = load({
      files,
      env: { NODE_ENV: 'production', HTTP_HOST: 'h' },
      argv: ['--verbose', 'true'],
    });
    const origins = Object.fromEntries(config.explain().map((e) => [e.key, e.origin]));
    expect(origins).toEqual({
      'db.password': 'default',
      'http.host': 'env HTTP_HOST',
      'http.port': expect.stringMatching(/^file .*local\.json$/),
      mode: expect.stringMatching(/^file .*default\.json$/),
      verbose: 'flag --verbose',
    });
  });

  it('coerces env strings by format, accepting the usual boolean spellings', () => {
    const config = load({ env: { VERBOSE: 'yes', HTTP_PORT: '8080' } });
    expect(config.get('verbose')).toBe(true);
    expect(config.get('http.port')).toBe(8080);
    expect(load({ env: { VERBOSE: '0' } }).get('verbose')).toBe(false);
  });
});

describe('loadConfig secrets', () => {
  it('reads X_FILE into X and names the file variable as origin', () => {
    const dir = configDir({ secret: 's3cr3t\n' });
    const config = load({ env: { DB_PASSWORD_FILE: join(dir, 'secret') } });
    expect(config.get('db.password')).toBe('s3cr3t');
    const entry = config.explain().find((e) => e.key === 'db.password');
    expect(entry).toMatchObject({ origin: 'env DB_PASSWORD_FILE', value: '[redacted]', sensitive: true });
  });

  it('never shows a sensitive value in explain, redacted(), JSON or errors', () => {
    const config = load({ env: { DB_PASSWORD: 'hunter2' } });
    expect(config.get('db.password')).toBe('hunter2');
    expect(JSON.stringify(config.explain())).not.toContain('hunter2');
    expect(JSON.stringify(config.redacted())).not.toContain('hunter2');
    expect(JSON.stringify(config)).not.toContain('hunter2');
    const error = violationsOf(() =>
      loadConfig({
        schema: composeSchema([
          { owner: 't', schema: { pin: { doc: 'PIN', format: 'nat', default: 0, sensitive: true } } },
        ]),
        configDir: '/nonexistent',
        env: { PIN: '12x34' },
        argv: [],
      }),
    );
    expect(error.message).toContain('pin');
    expect(error.message).not.toContain('12x34');
  });

  it('reports an unreadable secret file and a variable set both ways', () => {
    const error = violationsOf(() => load({ env: { DB_PASSWORD_FILE: '/nonexistent/secret' } }));
    expect(error.violations[0]).toMatchObject({ key: 'db.password', origin: 'env DB_PASSWORD_FILE' });
    expect(error.message).toContain('ENOENT');
    const both = violationsOf(() => load({ env: { DB_PASSWORD: 'a', DB_PASSWORD_FILE: '/x' } }));
    expect(both.message).toContain('both DB_PASSWORD and DB_PASSWORD_FILE are set');
  });
});

describe('loadConfig validation', () => {
  it('lists every violation at once with key, source, value and expected format', () => {
    const error = violationsOf(() =>
      load({
        files: { 'default.json': { mode: 'medium', unknownKey: 1 } },
        env: { HTTP_PORT: 'abc', VERBOSE: 'maybe' },
        argv: ['--http.host', '42'],
      }),
    );
    const byKey = Object.fromEntries(error.violations.map((v) => [v.key, v]));
    expect(Object.keys(byKey).sort()).toEqual(['http.port', 'mode', 'unknownKey', 'verbose']);
    expect(byKey['http.port']).toMatchObject({
      origin: 'env HTTP_PORT',
      value: '"abc"',
      expected: 'a port number (0-65535)',
    });
    expect(byKey.verbose).toMatchObject({ origin: 'env VERBOSE', expected: 'true or false' });
    expect(byKey.mode?.origin).toMatch(/^file .*default\.json$/);
    expect(byKey.mode?.expected).toBe('one of "fast", "slow"');
    expect(byKey.unknownKey?.problem).toBe('not a known configuration key');
    expect(error.message).toMatch(/^Invalid configuration \(4 problems\):/);
    expect(error.message).toContain(
      'http.port: not an integer; got "abc" (from env HTTP_PORT); expected a port number',
    );
  });

  it('refuses numbers that convict would truncate, from env and flags alike', () => {
    const error = violationsOf(() => load({ env: { HTTP_PORT: '1e3' }, argv: ['--verbose', 'maybe'] }));
    expect(error.violations).toEqual([
      expect.objectContaining({ key: 'http.port', problem: 'not an integer', origin: 'env HTTP_PORT' }),
      expect.objectContaining({ key: 'verbose', problem: 'not a boolean', origin: 'flag --verbose' }),
    ]);
    expect(violationsOf(() => load({ argv: ['--http.port', '80abc'] })).violations[0]).toMatchObject({
      problem: 'not an integer',
      origin: 'flag --http.port',
    });
  });

  it('keeps key and source for a sensitive or empty bad value', () => {
    const error = violationsOf(() => load({ overrides: { http: { port: '' }, db: { password: 5 } } }));
    expect(error.violations.map((v) => [v.key, v.origin])).toEqual([
      ['http.port', 'code'],
      ['db.password', 'code'],
    ]);
    expect(error.message).not.toContain('5 ');
  });

  it('names the flag when a flag carries the bad value', () => {
    const error = violationsOf(() => load({ argv: ['--http.port', '70000'] }));
    expect(error.violations).toEqual([
      expect.objectContaining({ key: 'http.port', origin: 'flag --http.port', value: '70000' }),
    ]);
  });

  it('reports a config file that is not valid JSON', () => {
    const error = violationsOf(() => load({ files: { 'local.json': '{ nope' } }));
    expect(error.violations[0]?.problem).toMatch(/^invalid JSON/);
    expect(error.violations[0]?.key).toMatch(/local\.json$/);
  });
});

describe('ServiceConfig', () => {
  it('is immutable and rejects unknown keys', () => {
    const config = load({});
    const http = config.get('http');
    expect(Object.isFrozen(http)).toBe(true);
    expect(() => (config as unknown as { get(k: string): unknown }).get('nope.nothing')).toThrow(
      'Unknown config key "nope.nothing"',
    );
  });
});
