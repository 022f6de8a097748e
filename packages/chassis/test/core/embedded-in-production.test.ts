import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createService, type Service } from '../../src/index.js';
import { LogCapture, startTestService } from '../../src/testing/index.js';

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

const notes = [{ version: 1, name: 'notes', sql: 'create table notes (id serial primary key, text text)' }];

async function failure(options: Parameters<typeof startTestService>[0]): Promise<ConfigError> {
  const error = await startTestService(options).then(
    (started) => {
      running.push(started.service);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('production refuses the embedded defaults a service needs', () => {
  it('the local registry (the registry default): names registry.backend and its variable', async () => {
    const error = await createService({
      name: 'orders',
      env: { NODE_ENV: 'production' },
      argv: [],
      configDir: '/nonexistent/keelson-test-config',
      handleProcess: false,
      logDestination: new LogCapture(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).violations.map((v) => v.key)).toEqual(['registry.backend']);
    expect((error as Error).message).toContain('(env REGISTRY_BACKEND)');
    expect((error as Error).message).toContain('etcd, consul, or none');
  });

  it('an in-memory database the service needs: names db.url, lists nothing else', async () => {
    const error = await failure({
      env: { NODE_ENV: 'production' },
      setup: (svc) => svc.db.addMigrations('notes', notes),
    });
    expect(error.violations.map((v) => v.key)).toEqual(['db.url']);
    expect(error.message).toContain('db.url: not set in production');
    expect(error.message).toContain('(env DB_URL)');
    expect(error.message).toContain('service.allowEmbeddedInProduction=true');
  });

  it('the in-process broker for a service with consumers: names messaging.url', async () => {
    const error = await failure({
      env: { NODE_ENV: 'production' },
      setup: (svc) => void svc.messaging.consume('orders.placed', async () => {}),
    });
    expect(error.violations.map((v) => v.key)).toEqual(['messaging.url']);
    expect(error.message).toContain('orders.placed');
  });

  it('runs on them when allowed on purpose, and in development', async () => {
    for (const env of [{ NODE_ENV: 'production', SERVICE_ALLOW_EMBEDDED_IN_PRODUCTION: 'true' }, {}]) {
      const { service } = await startTestService({
        env,
        setup: (svc) => {
          svc.db.addMigrations('notes', notes);
          svc.messaging.consume('orders.placed', async () => {});
        },
      });
      running.push(service);
      expect(service.state).toBe('READY');
    }
  }, 60_000);

  it('what is used only later (the outbox, a publish) fails at that use, naming the key', async () => {
    const { service } = await startTestService({ env: { NODE_ENV: 'production' } });
    running.push(service);
    const stored = await service.db
      .transaction((tx) => service.outbox.enqueue(tx, { topic: 'orders.placed', payload: {} }))
      .catch((e: unknown) => e);
    expect(stored).toBeInstanceOf(ConfigError);
    expect((stored as ConfigError).violations.map((v) => v.key)).toEqual(['db.url']);
    const published = await service.messaging
      .publish({ topic: 'orders.placed', payload: {} })
      .catch((e: unknown) => e);
    expect(published).toBeInstanceOf(ConfigError);
    expect((published as ConfigError).violations.map((v) => v.key)).toEqual(['messaging.url']);
    expect(service.db.opened).toBe(false);
  });

  it('a service that needs nothing starts in production on the defaults', async () => {
    const { service } = await startTestService({ env: { NODE_ENV: 'production' } });
    running.push(service);
    expect(service.state).toBe('READY');
    expect(service.db.opened).toBe(false);
  });
});

describe('the database a service needs is open before READY', () => {
  it('opens the embedded database at start when the service added migrations', async () => {
    const { service, url } = await startTestService({ setup: (svc) => svc.db.addMigrations('notes', notes) });
    running.push(service);
    expect(service.db.opened).toBe(true);
    const ready = (await (await fetch(`${url}/health/ready`)).json()) as {
      checks: Record<string, { status: string; observedValue?: unknown }[]>;
    };
    expect(ready.checks.database?.[0]).toMatchObject({ status: 'pass', observedValue: 'pglite' });
  }, 30_000);

  it('opens a database whose URL was set, even the in-memory one', async () => {
    const { service } = await startTestService({ env: { DB_URL: 'pglite:memory' } });
    running.push(service);
    expect(service.db.opened).toBe(true);
  }, 30_000);
});
