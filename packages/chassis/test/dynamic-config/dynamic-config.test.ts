import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../src/config/index.js';
import { dynamicConfigPlugin } from '../../src/dynamic-config/index.js';
import { ConfigError, definePlugin } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { waitUntil } from '../support/wait.js';
import { seriesValue, tempConfigDir } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const serviceConfig = {
  greeting: { doc: 'Greeting.', format: String, default: 'hello', reloadable: true },
  apiToken: { doc: 'Token.', format: String, default: 'initial-secret', sensitive: true, reloadable: true },
} as const;

/** A service with dynamic configuration on, its config directory, and what its subscriber was told. */
async function start(options: { watchFiles?: boolean; initial?: Record<string, unknown> } = {}) {
  const files = tempConfigDir(options.initial);
  const changes: ConfigChange[] = [];
  let probeLog: Logger | undefined;
  const probe = definePlugin({
    name: 'probe',
    register(ctx) {
      probeLog = ctx.log;
    },
  });
  const test = await startTestService({
    configDir: files.dir,
    config: serviceConfig,
    plugins: [dynamicConfigPlugin, probe],
    overrides: { dynamicConfig: { enabled: true, debounceMs: 20, watchFiles: options.watchFiles ?? true } },
    setup: (svc) => void svc.config.onChange((batch) => void changes.push(...batch)),
  });
  cleanups.push(files.remove, () => test.service.stop());
  const metrics = async () => (await fetch(`${test.url}/metrics`)).text();
  return { ...test, files, changes, metrics, probeLog: () => probeLog as Logger };
}

describe('dynamic configuration: config files', () => {
  it('applies a changed file: subscribers are told, values and log.level take effect', async () => {
    const { service, files, changes, logs, metrics, probeLog } = await start();
    expect(probeLog().isLevelEnabled('debug')).toBe(false);

    files.write({ greeting: 'hi', log: { level: 'debug' } });
    await waitUntil('the change', () => changes.length >= 2);

    expect(changes).toEqual([
      { key: 'greeting', from: 'hello', to: 'hi' },
      { key: 'log.level', from: 'info', to: 'debug' },
    ]);
    expect(service.config.get('greeting')).toBe('hi');
    expect(service.config.get('log.level')).toBe('debug');
    expect(service.config.explain().find((e) => e.key === 'greeting')?.origin).toMatch(
      /^file .*default\.json$/,
    );
    // The level applies to the root logger and to every plugin's child logger.
    probeLog().debug('probe at debug');
    service.log.debug('root at debug');
    expect(logs.find('probe at debug')).toHaveLength(1);
    expect(logs.find('root at debug')).toHaveLength(1);

    const reloaded = logs.find('configuration reloaded from file: greeting, log.level changed');
    expect(reloaded[0]).toMatchObject({
      level: 'info',
      origin: 'file',
      changes: [
        { key: 'greeting', from: 'hello', to: 'hi' },
        { key: 'log.level', from: 'info', to: 'debug' },
      ],
    });
    expect(logs.entries().find((e) => e.audit === true)).toMatchObject({
      action: 'config.reload',
      outcome: 'success',
      details: { origin: 'file', changed: ['greeting', 'log.level'], ignored: [] },
    });
    const text = await metrics();
    expect(seriesValue(text, 'config_reloads_total{origin="file"}')).toBeGreaterThanOrEqual(1);
    expect(seriesValue(text, 'config_reload_failures_total{origin="file"}')).toBe(0);
    expect(seriesValue(text, 'config_last_reload_successful')).toBe(1);
  });

  it('keeps the last good configuration when the new one is invalid, and recovers', async () => {
    const { service, url, files, changes, logs, metrics } = await start({ initial: { greeting: 'good' } });

    files.write({ greeting: 42, log: { level: 'loud' }, nope: true });
    await waitUntil('the rejection', () => logs.find('rejected').length > 0);

    const [rejected] = logs.find(
      'configuration reload from file rejected, the last good configuration stays',
    );
    expect(rejected).toMatchObject({ level: 'error', origin: 'file' });
    const violations = ((rejected?.violations ?? []) as { key: string }[]).map((v) => v.key);
    expect(violations.sort()).toEqual(['greeting', 'log.level', 'nope']);
    expect(rejected?.msg).toContain('nope: not a known configuration key');
    expect(service.config.get('greeting')).toBe('good');
    expect(service.config.get('log.level')).toBe('info');
    expect(changes).toEqual([]);
    let text = await metrics();
    expect(seriesValue(text, 'config_reload_failures_total{origin="file"}')).toBeGreaterThanOrEqual(1);
    expect(seriesValue(text, 'config_last_reload_successful')).toBe(0);
    expect(logs.entries().find((e) => e.audit === true)).toMatchObject({
      action: 'config.reload',
      outcome: 'failure',
    });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);

    // A file caught half-written is one more rejected reload, not a crash.
    files.write('{ "greeting": ');
    await waitUntil('the JSON rejection', () => logs.find('invalid JSON').length > 0);
    expect(service.config.get('greeting')).toBe('good');

    files.write({ greeting: 'fixed' });
    await waitUntil('the recovery', () => service.config.get('greeting') === 'fixed');
    text = await metrics();
    expect(seriesValue(text, 'config_last_reload_successful')).toBe(1);
    expect(changes).toEqual([{ key: 'greeting', from: 'good', to: 'fixed' }]);
  });

  it('reports a changed key that is not reloadable instead of applying it', async () => {
    const { service, files, changes, logs, metrics } = await start();

    files.write({ http: { bodyLimit: 1234 } });
    await waitUntil('the report', () => logs.find('not applied').length > 0);

    expect(logs.find('not applied')[0]).toMatchObject({
      level: 'warn',
      origin: 'file',
      keys: ['http.bodyLimit'],
      msg: 'configuration reload from file: http.bodyLimit not applied: not reloadable (a restart applies it)',
    });
    expect(service.config.get('http.bodyLimit')).toBe(1048576);
    expect(service.config.explain().find((e) => e.key === 'http.bodyLimit')?.origin).toBe('default');
    expect(changes).toEqual([]);
    expect(seriesValue(await metrics(), 'config_reload_ignored_keys_total')).toBeGreaterThanOrEqual(1);
  });

  it('never shows a sensitive value: subscribers and logs see [redacted], config.get the new value', async () => {
    const { service, files, changes, logs } = await start();

    files.write({ apiToken: 'rotated-secret' });
    await waitUntil('the change', () => changes.length > 0);

    expect(changes).toEqual([{ key: 'apiToken', from: '[redacted]', to: '[redacted]' }]);
    expect(service.config.get('apiToken')).toBe('rotated-secret');
    expect(logs.find('apiToken changed')[0]?.changes).toEqual(changes);
    expect(logs.raw.join('\n')).not.toContain('secret');
  });

  it('keeps running when the config directory does not exist', async () => {
    const { service, logs } = await startTestService({
      plugins: [dynamicConfigPlugin],
      overrides: { dynamicConfig: { enabled: true } },
    });
    cleanups.push(() => service.stop());
    expect(logs.find('cannot be watched')[0]).toMatchObject({ reason: 'ENOENT' });
    expect(service.state).toBe('READY');
  });
});

describe('dynamic configuration: etcd unreachable', () => {
  it('starts anyway: the failure is logged and the etcd indicator fails without failing readiness', async () => {
    const { service, url, logs } = await startTestService({
      plugins: [dynamicConfigPlugin],
      overrides: {
        // Nothing listens on port 9 of loopback: connections are refused at once.
        dynamicConfig: {
          enabled: true,
          watchFiles: false,
          etcd: { enabled: true, endpoints: ['http://127.0.0.1:9'] },
        },
      },
    });
    cleanups.push(() => service.stop());
    expect(service.state).toBe('READY');
    expect(logs.find('reading the configuration from etcd failed')[0]).toMatchObject({
      level: 'warn',
      prefix: '/keelson/config/test-service/',
    });
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: Record<string, { status: string }[]> };
    expect(body.checks['dynamic-config:etcd']?.[0]?.status).toBe('fail');
  });
});

describe('dynamic configuration: SIGHUP', () => {
  it('reloads every service in the process on SIGHUP; the listener goes with the last one', async () => {
    const before = process.listenerCount('SIGHUP');
    const a = await start({ watchFiles: false });
    const b = await start({ watchFiles: false });
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);

    a.files.write({ greeting: 'from a' });
    b.files.write({ greeting: 'from b' });
    process.emit('SIGHUP', 'SIGHUP');

    expect(a.service.config.get('greeting')).toBe('from a');
    expect(b.service.config.get('greeting')).toBe('from b');
    expect(a.logs.find('configuration reloaded from signal: greeting changed')[0]).toMatchObject({
      origin: 'signal',
    });
    expect(seriesValue(await a.metrics(), 'config_reloads_total{origin="signal"}')).toBe(1);

    await a.service.stop();
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    await b.service.stop();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});

describe('dynamic configuration: off and misconfigured', () => {
  it('does nothing unless enabled', async () => {
    const before = process.listenerCount('SIGHUP');
    const { service, url } = await startTestService({ plugins: [dynamicConfigPlugin] });
    cleanups.push(() => service.stop());
    expect(process.listenerCount('SIGHUP')).toBe(before);
    expect(await (await fetch(`${url}/metrics`)).text()).not.toContain('config_reloads_total');
  });

  it('refuses bad settings with a clear error naming each key', async () => {
    const error = await startTestService({
      plugins: [dynamicConfigPlugin],
      env: { DYNAMIC_CONFIG_ENABLED: 'maybe', DYNAMIC_CONFIG_DEBOUNCE_MS: '-5' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      '- dynamicConfig.enabled: not a boolean; got "maybe" (from env DYNAMIC_CONFIG_ENABLED)',
    );
    expect((error as ConfigError).violations.map((v) => v.key)).toContain('dynamicConfig.debounceMs');
  });
});
