import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createService, definePlugin, PluginError, type Service } from '../src/index.js';
import { LogCapture, startTestService } from '../src/testing/index.js';

const quiet = {
  env: {},
  argv: [],
  configDir: '/nonexistent',
  handleProcess: false,
  logDestination: new LogCapture(),
};
const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('plugins', () => {
  it('registers and starts in dependency order, stops in reverse within a phase', async () => {
    const events: string[] = [];
    const make = (name: string, dependencies: string[] = []) =>
      definePlugin({
        name,
        dependencies,
        register(ctx) {
          events.push(`register ${name}`);
          ctx.onStart(() => void events.push(`start ${name}`));
          ctx.onStop(() => void events.push(`stop ${name}`));
        },
      });
    const { service } = await startTestService({ plugins: [make('b', ['a']), make('a'), make('c')] });
    await service.stop();
    expect(events).toEqual([
      'register a',
      'register b',
      'register c',
      'start a',
      'start b',
      'start c',
      'stop c',
      'stop b',
      'stop a',
    ]);
  });

  it('runs shutdown phases in the fixed order whatever the plugin order', async () => {
    const events: string[] = [];
    const plugin = definePlugin({
      name: 'phased',
      register(ctx) {
        ctx.onStop(() => void events.push('telemetry'), { phase: 'telemetry' });
        ctx.onStop(() => void events.push('connections'), { phase: 'connections' });
        ctx.onStop(() => void events.push('relay'), { phase: 'relay' });
        ctx.onStop(() => void events.push(`http while ${ctx.state}`), { phase: 'http' });
        ctx.onStop(() => void events.push('deregister'), { phase: 'deregister' });
      },
    });
    const { service } = await startTestService({ plugins: [plugin] });
    await service.stop();
    expect(events).toEqual(['deregister', 'http while DRAINING', 'relay', 'connections', 'telemetry']);
    expect(service.state).toBe('STOPPED');
  });

  it('merges each plugin config fragment into the service schema, typed', async () => {
    const plugin = definePlugin({
      name: 'greeter',
      config: { greeter: { word: { doc: 'Greeting word', format: String, default: 'hi' } } },
      register(ctx) {
        const word: string = ctx.config.get('greeter.word');
        ctx.onStart(() => ctx.log.info({ word }, 'greeter ready'));
      },
    });
    const { service, logs } = await startTestService({ plugins: [plugin], env: { GREETER_WORD: 'hello' } });
    running.push(service);
    expect(logs.find('greeter ready')[0]).toMatchObject({ word: 'hello', plugin: 'greeter' });
    expect(service.config.explain().find((e) => e.key === 'greeter.word')).toMatchObject({
      owner: 'greeter',
      origin: 'env GREETER_WORD',
    });
  });

  it('shares capabilities through the context', async () => {
    const provider = definePlugin({
      name: 'clock',
      register(ctx) {
        ctx.provide('clock' as never, { now: () => 42 } as never);
      },
    });
    let seen: unknown;
    const consumer = definePlugin({
      name: 'consumer',
      dependencies: ['clock'],
      register(ctx) {
        seen = (ctx as unknown as { clock: { now(): number } }).clock.now();
      },
    });
    const { service } = await startTestService({ plugins: [consumer, provider] });
    running.push(service);
    expect(seen).toBe(42);
    expect(() => service.provide('http', service.http)).toThrow('Capability "http" is already provided');
  });

  it('lets a plugin add fields to every log line', async () => {
    const tracing = definePlugin({
      name: 'tracing-like',
      register(ctx) {
        ctx.logging.addMixin(() => ({ trace_id: 'abc123' }));
      },
    });
    const { service, logs } = await startTestService({ plugins: [tracing] });
    running.push(service);
    service.log.info('after the mixin');
    expect(logs.find('after the mixin')[0]).toMatchObject({ trace_id: 'abc123' });
  });

  it('fails clearly on a missing or circular dependency', async () => {
    const a = definePlugin({ name: 'a', dependencies: ['b'], register() {} });
    const b = definePlugin({ name: 'b', dependencies: ['a'], register() {} });
    await expect(createService({ name: 'x', ...quiet, plugins: [a] })).rejects.toThrow(PluginError);
    await expect(createService({ name: 'x', ...quiet, plugins: [a, b] })).rejects.toThrow(
      'Circular plugin dependency: a → b → a',
    );
  });

  it('names the plugin whose register throws', async () => {
    const broken = definePlugin({
      name: 'broken',
      register() {
        throw new Error('boom');
      },
    });
    await expect(createService({ name: 'x', ...quiet, plugins: [broken] })).rejects.toThrow(
      'Plugin "broken" failed to register: boom',
    );
  });
});

describe('lifecycle', () => {
  it('is STARTING until every start hook finished, then READY', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = definePlugin({ name: 'slow', register: (ctx) => ctx.onStart(() => gate) });
    const service = await createService({
      name: 'x',
      ...quiet,
      overrides: { http: { port: 0, host: '127.0.0.1' } },
      plugins: [slow],
    });
    running.push(service);
    const started = service.start();
    await delay(20);
    expect(service.state).toBe('STARTING');
    release();
    await started;
    expect(service.state).toBe('READY');
  });

  it('goes FAILED when a start hook throws, and releases what had started', async () => {
    const events: string[] = [];
    const ok = definePlugin({
      name: 'ok',
      register: (ctx) => ctx.onStop(() => void events.push('ok stopped')),
    });
    const bad = definePlugin({
      name: 'bad',
      dependencies: ['ok'],
      register: (ctx) =>
        ctx.onStart(() => {
          throw new Error('cannot connect');
        }),
    });
    const service = await createService({
      name: 'x',
      ...quiet,
      overrides: { http: { port: 0, host: '127.0.0.1' } },
      plugins: [ok, bad],
    });
    await expect(service.start()).rejects.toThrow('cannot connect');
    expect(service.state).toBe('FAILED');
    expect(events).toEqual(['ok stopped']);
    expect(await service.stop()).toBe(false);
  });

  it('stop is idempotent and bounded per phase', async () => {
    let calls = 0;
    const hang = definePlugin({
      name: 'hang',
      register: (ctx) =>
        ctx.onStop(
          () => {
            calls++;
            return new Promise(() => {});
          },
          { phase: 'relay' },
        ),
    });
    const { service, logs } = await startTestService({
      plugins: [hang],
      overrides: { shutdown: { timeouts: { relay: 50 } } },
    });
    const first = service.stop();
    const second = service.stop();
    expect(await first).toBe(false);
    expect(await second).toBe(false);
    expect(await service.stop()).toBe(false);
    expect(calls).toBe(1);
    expect(service.state).toBe('STOPPED');
    expect(logs.find('did not finish')[0]).toMatchObject({ phase: 'relay', timeoutMs: 50 });
  });
});

describe('several services in one process', () => {
  it('keeps logs, metrics and config apart', async () => {
    const one = await startTestService({ name: 'one', env: { SERVICE_VERSION: '1.0.0' } });
    const two = await startTestService({ name: 'two', env: { SERVICE_VERSION: '2.0.0' } });
    running.push(one.service, two.service);
    await fetch(`${one.url}/health/live`);
    const [m1, m2] = await Promise.all([one.service.metrics.text(), two.service.metrics.text()]);
    expect(m1).toContain('service_info{service_name="one",service_version="1.0.0"');
    expect(m1).not.toContain('service="two"');
    expect(m2).toContain('service_info{service_name="two",service_version="2.0.0"');
    expect(m1).toContain(
      'http_server_request_duration_seconds_count{method="GET",route="/health/live",status_code="200"} 1',
    );
    expect(m2).not.toContain('route="/health/live",status_code="200"} 1');
    expect(one.logs.entries().every((e) => e.service === 'one')).toBe(true);
    expect(two.logs.entries().every((e) => e.service === 'two')).toBe(true);
  });
});

describe('invalid configuration', () => {
  it('throws before anything listens, listing every problem', async () => {
    const error = await createService({
      name: 'x',
      ...quiet,
      env: { HTTP_PORT: 'abc', HEALTH_CACHE_MS: '-1', LOG_LEVEL: 'loud' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).violations.map((v) => v.key).sort();
    expect(keys).toEqual(['health.cacheMs', 'http.port', 'log.level']);
  });

  it('rejects an invalid service name', async () => {
    await expect(createService({ name: 'bad name!', ...quiet })).rejects.toThrow('Invalid service name');
  });
});
