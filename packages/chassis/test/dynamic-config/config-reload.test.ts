import { describe, expect, it } from 'vitest';
import {
  type ConfigChange,
  ConfigError,
  composeSchema,
  createServiceConfig,
  loadConfig,
  type RuntimeLayer,
} from '../../src/config/index.js';
import { tempConfigDir } from './support.js';

const schema = composeSchema([
  {
    owner: 'test',
    schema: {
      level: { doc: 'Level.', format: ['info', 'debug'], default: 'info', reloadable: true },
      limits: { max: { doc: 'Max.', format: 'nat', default: 10, reloadable: true } },
      port: { doc: 'Port.', format: 'port', default: 3000 },
      secret: { doc: 'Secret.', format: String, default: 's0', sensitive: true, reloadable: true },
    },
  },
]);

type Shape = { level: string; limits: { max: number }; port: number; secret: string };

function load(options: { env?: Record<string, string>; overrides?: Record<string, unknown> } = {}) {
  const files = tempConfigDir();
  const config = loadConfig<Shape>({
    schema,
    configDir: files.dir,
    env: options.env ?? {},
    argv: [],
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  return { config, files };
}

const etcd = (entries: Record<string, string>): RuntimeLayer => ({ source: 'etcd /k/config/svc/', entries });

describe('config reload', () => {
  it('applies reloadable keys, reports the others, and tells listeners once with every change', () => {
    const { config, files } = load();
    const seen: ConfigChange[][] = [];
    config.onChange((changes) => void seen.push([...changes]));

    files.write({ level: 'debug', limits: { max: 20 }, port: 4000 });
    const result = config.reload();

    expect(result).toEqual({
      changed: [
        { key: 'level', from: 'info', to: 'debug' },
        { key: 'limits.max', from: 10, to: 20 },
      ],
      ignored: ['port'],
    });
    expect(seen).toEqual([result.changed]);
    expect(config.get('limits')).toEqual({ max: 20 });
    expect(Object.isFrozen(config.get('limits'))).toBe(true);
    expect(config.get('port')).toBe(3000);
    const entries = Object.fromEntries(config.explain().map((e) => [e.key, e]));
    expect(entries.level).toMatchObject({
      value: 'debug',
      reloadable: true,
      origin: expect.stringMatching(/^file /),
    });
    expect(entries.port).toMatchObject({ value: 3000, reloadable: false, origin: 'default' });
    expect(config.redacted()).toMatchObject({ level: 'debug', secret: '[redacted]' });
    files.remove();
  });

  it('changes nothing when the new configuration is invalid', () => {
    const { config, files } = load();
    const seen: unknown[] = [];
    config.onChange((c) => void seen.push(c));
    files.write({ level: 'loud', limits: { max: -1 }, extra: 1 });

    let error: unknown;
    try {
      config.reload();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).violations.map((v) => v.key).sort()).toEqual([
      'extra',
      'level',
      'limits.max',
    ]);
    expect(config.get('level')).toBe('info');
    expect(seen).toEqual([]);
    files.remove();
  });

  it('places a runtime layer above code overrides and below env, with its own origin', () => {
    const { config, files } = load({ overrides: { limits: { max: 11 } }, env: { LEVEL: 'info' } });
    const result = config.reload({ runtime: etcd({ 'limits.max': '12', level: '"debug"' }) });

    expect(result.changed).toEqual([{ key: 'limits.max', from: 11, to: 12 }]);
    const origins = Object.fromEntries(config.explain().map((e) => [e.key, e.origin]));
    expect(origins).toMatchObject({ 'limits.max': 'etcd /k/config/svc/limits.max', level: 'env LEVEL' });
    // The next reload keeps the layer unless it is given another.
    files.write({ limits: { max: 99 } });
    expect(config.reload().changed).toEqual([]);
    expect(config.reload({ runtime: etcd({}) }).changed).toEqual([{ key: 'limits.max', from: 12, to: 11 }]);
    files.remove();
  });

  it('names runtime values that are not JSON or not keys, and never touches a prototype', () => {
    const { config, files } = load();
    let error: ConfigError | undefined;
    try {
      config.reload({
        runtime: etcd({ level: 'debug', 'no.such': '1', '__proto__.polluted': 'true', secret: 'x' }),
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const byKey = Object.fromEntries((error?.violations ?? []).map((v) => [v.key, v]));
    expect(byKey.level).toMatchObject({
      problem: expect.stringContaining('invalid JSON'),
      origin: 'etcd /k/config/svc/level',
      value: '"debug"',
    });
    expect(byKey.secret?.value).toBe('[redacted]');
    expect(byKey['no.such']).toMatchObject({ problem: 'not a known configuration key' });
    expect(byKey['__proto__.polluted']).toMatchObject({ problem: 'not a known configuration key' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(config.get('level')).toBe('info');
    files.remove();
  });

  it('keeps a change applied when a listener fails, and reports the failure', async () => {
    const { config, files } = load();
    const failures: unknown[] = [];
    const later: ConfigChange[] = [];
    config.onChange(() => {
      throw new Error('sync listener broke');
    });
    config.onChange(async () => {
      throw new Error('async listener broke');
    });
    const remove = config.onChange((c) => void later.push(...c));
    files.write({ level: 'debug' });
    config.reload({ onListenerError: (e) => failures.push(e) });
    await new Promise((resolve) => setImmediate(resolve));

    expect(config.get('level')).toBe('debug');
    expect(later).toHaveLength(1);
    expect(failures.map((e) => (e as Error).message).sort()).toEqual([
      'async listener broke',
      'sync listener broke',
    ]);
    remove();
    files.write({ level: 'info' });
    config.reload({ onListenerError: () => undefined });
    expect(later).toHaveLength(1);
    files.remove();
  });

  it('says so when a configuration has no sources to reload from', () => {
    const config = createServiceConfig({ a: 1 }, []);
    expect(() => config.reload()).toThrow('not loaded from sources');
    expect(config.configDir).toBeUndefined();
  });
});
