import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { createService } from '../../src/create-service.js';
import { databasePlugin } from '../../src/database/index.js';
import { startTestService } from '../../src/testing/index.js';

type TestOptions = NonNullable<Parameters<typeof startTestService<{}>>[0]>;

/**
 * Adds the database plugin, unless createService already includes it among its built-in plugins
 * (it says so by refusing a second one, before it builds anything).
 */
async function withDatabase<T>(create: (plugins: TestOptions['plugins']) => Promise<T>): Promise<T> {
  try {
    return await create([databasePlugin]);
  } catch (error) {
    if (error instanceof Error && /"database" is registered twice/.test(error.message)) return create([]);
    throw error;
  }
}

const startWithDatabase = (options: TestOptions) =>
  withDatabase((plugins) => startTestService({ ...options, plugins }));

interface HealthBody {
  status: string;
  checks: Record<string, { status: string; output?: string; observedValue?: unknown }[]>;
}

describe('database plugin', () => {
  it('gives the service a lazy in-memory database that opens, migrated, on first use', async () => {
    const { service, url } = await startWithDatabase({
      overrides: { health: { cacheMs: 0 } },
      // whenUsed: migrations of a capability that needs the database only if it is used.
      setup: (svc) =>
        svc.db.addMigrations(
          'notes',
          [
            {
              version: 1,
              name: 'create notes',
              sql: 'create table notes (id serial primary key, body text)',
            },
          ],
          { whenUsed: true },
        ),
    });
    try {
      expect(service.db.opened).toBe(false);
      const before = (await (await fetch(`${url}/health/ready`)).json()) as HealthBody;
      expect(before.status).toBe('pass');
      expect(before.checks.database?.[0]).toMatchObject({
        status: 'pass',
        output: expect.stringMatching(/not opened/),
      });
      expect(service.db.opened).toBe(false);

      await service.db.query('insert into notes (body) values ($1)', ['hello']);
      expect(service.db.opened).toBe(true);
      expect((await service.db.query('select body from notes')).rows).toEqual([{ body: 'hello' }]);
      const after = (await (await fetch(`${url}/health/ready`)).json()) as HealthBody;
      expect(after.checks.database?.[0]).toMatchObject({ status: 'pass', observedValue: 'pglite' });
    } finally {
      await service.stop();
    }
    expect(service.db.opened).toBe(false);
  });

  it('opens a configured PostgreSQL database at start, migrated, with pool metrics', async () => {
    const suffix = randomBytes(5).toString('hex');
    const owner = `plugin_${suffix}`;
    const table = `plugin_notes_${suffix}`;
    const { service } = await startWithDatabase({
      overrides: { db: { url: inject('postgresUrl') } },
      setup: (svc) =>
        svc.db.addMigrations(owner, [{ version: 1, name: 'create', sql: `create table ${table} (id int)` }]),
    });
    try {
      expect(service.db.opened).toBe(true);
      expect(service.db.kind).toBe('postgres');
      expect((await service.db.query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 0 }]);
      expect(await service.metrics.text()).toMatch(/^db_pool_connections\{state="total"\} [1-9]/m);
    } finally {
      await service.db.query(`drop table if exists ${table}`);
      await service.db.query('delete from keelson_schema_migrations where owner = $1', [owner]);
      await service.stop();
    }
  });

  it('fails the start when the configured PostgreSQL server cannot be reached', async () => {
    await expect(
      startWithDatabase({
        overrides: { db: { url: 'postgres://postgres@127.0.0.1:1/keelson', connectTimeoutMs: 2000 } },
      }),
    ).rejects.toThrow();
  });

  it('rejects a db.url of an unknown kind as a config violation, without showing it', async () => {
    const creating = withDatabase((plugins) =>
      createService({
        name: 'bad-db',
        env: {},
        argv: [],
        configDir: '/nonexistent/keelson-test-config',
        handleProcess: false,
        ...(plugins ? { plugins } : {}),
        overrides: { db: { url: 'mysql://app:hunter2@127.0.0.1/app' } },
      }),
    );
    const error = await creating.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const violations = (error as ConfigError).violations;
    expect(violations.map((v) => v.key)).toEqual(['db.url']);
    expect(violations[0]?.problem).toMatch(/postgres:\/\//);
    expect((error as ConfigError).message).not.toContain('hunter2');
  });
});
