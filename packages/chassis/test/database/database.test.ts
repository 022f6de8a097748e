import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database, Migration } from '../../src/database/database-port.js';
import { runMigrations } from '../../src/database/migrations.js';
import { PgDatabase } from '../../src/database/pg-database.js';
import { PgliteDatabase } from '../../src/database/pglite-database.js';
import { waitUntil } from '../support/wait.js';

/** Names unique to this run: the PostgreSQL database is shared with test files running in parallel. */
const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** The behaviour every adapter owes the chassis, run once per adapter. */
function describeDatabaseBehaviour(kind: 'pglite' | 'postgres', open: () => Promise<Database>) {
  describe(`${kind} adapter`, () => {
    let db: Database;
    const tables: string[] = [];
    const owners: string[] = [];
    const table = (prefix: string) => {
      const name = unique(prefix);
      tables.push(name);
      return name;
    };

    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      for (const name of tables) await db.query(`drop table if exists ${name}`);
      for (const owner of owners)
        await db.query('delete from keelson_schema_migrations where owner = $1', [owner]).catch(() => {});
      await db.close();
    });

    it('names its kind', () => {
      expect(db.kind).toBe(kind);
    });

    it('runs a query with parameters, with the types pg gives', async () => {
      const result = await db.query<{ sum: number; label: string; big: string; nothing: null }>(
        'select $1::int + $2::int as sum, $3::text as label, 9007199254740993::int8 as big, null as nothing',
        [1, 2, 'x'],
      );
      expect(result.rows).toEqual([{ sum: 3, label: 'x', big: '9007199254740993', nothing: null }]);
      expect(result.rowCount).toBe(1);
      expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    });

    it('counts the rows a statement changed', async () => {
      const name = table('counted');
      await db.query(`create table ${name} (id int primary key, note text)`);
      expect((await db.query(`insert into ${name} values ($1), ($2), ($3)`, [1, 2, 3])).rowCount).toBe(3);
      expect((await db.query(`update ${name} set note = $1 where id > $2`, ['n', 1])).rowCount).toBe(2);
      expect((await db.query(`select * from ${name}`)).rowCount).toBe(3);
      expect((await db.query(`delete from ${name} where id = $1`, [9])).rowCount).toBe(0);
    });

    it('commits a transaction and returns what its function returned', async () => {
      const name = table('committed');
      await db.query(`create table ${name} (id int primary key)`);
      const returned = await db.transaction(async (tx) => {
        await tx.query(`insert into ${name} values ($1)`, [1]);
        const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from ${name}`);
        return rows[0]?.n;
      });
      expect(returned).toBe(1);
      expect((await db.query(`select id from ${name}`)).rows).toEqual([{ id: 1 }]);
    });

    it('rolls back a transaction whose function throws, and rethrows that very error', async () => {
      const name = table('rolled_back');
      await db.query(`create table ${name} (id int primary key)`);
      const failure = new Error('changed my mind');
      const outcome = db.transaction(async (tx) => {
        await tx.query(`insert into ${name} values ($1)`, [1]);
        throw failure;
      });
      await expect(outcome).rejects.toBe(failure);
      expect((await db.query(`select id from ${name}`)).rows).toEqual([]);
    });

    it('refuses a statement on a transaction that has ended', async () => {
      let kept: { query(sql: string): Promise<unknown> } | undefined;
      await db.transaction(async (tx) => {
        kept = tx;
      });
      await expect(kept?.query('select 1')).rejects.toThrow(/transaction/i);
    });

    it('runs concurrent transactions each whole, and a statement outside never sees one half done', async () => {
      const name = table('concurrent');
      await db.query(`create table ${name} (id int primary key)`);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let firstInserted!: () => void;
      const inserted = new Promise<void>((resolve) => {
        firstInserted = resolve;
      });
      const first = db.transaction(async (tx) => {
        await tx.query(`insert into ${name} values (1)`);
        firstInserted();
        await gate;
        await tx.query(`insert into ${name} values (2)`);
      });
      await inserted;
      const second = db.transaction(async (tx) => {
        await tx.query(`insert into ${name} values (3)`);
      });
      const outside = db.query<{ id: number }>(`select id from ${name} order by id`);
      release();
      await Promise.all([first, second]);
      const seen = (await outside).rows.map((r) => r.id);
      // PostgreSQL answers before the first commits ([]), PGlite after ([1, 2, 3]): never [1] alone.
      expect(seen.includes(1)).toBe(seen.includes(2));
      expect((await db.query<{ id: number }>(`select id from ${name} order by id`)).rows).toEqual([
        { id: 1 },
        { id: 2 },
        { id: 3 },
      ]);
    });

    it('delivers a notification from a committed transaction, none from a rolled-back one', async () => {
      const channel = unique('Keelson.Channel');
      const received: string[] = [];
      const stop = await db.listen(channel, (payload) => received.push(payload));
      await db
        .transaction(async (tx) => {
          await tx.query('select pg_notify($1, $2)', [channel, 'rolled back']);
          throw new Error('undo');
        })
        .catch(() => {});
      await db.transaction(async (tx) => {
        await tx.query('select pg_notify($1, $2)', [channel, 'committed']);
      });
      await waitUntil('the committed notification', () => received.includes('committed'));
      // Notifications arrive in commit order: one from the rolled-back transaction would be here by now.
      expect(received).toEqual(['committed']);

      // A second listener on the channel still hears it after the first stopped.
      const others: string[] = [];
      const stopOther = await db.listen(channel, (payload) => others.push(payload));
      await stop();
      await db.query('select pg_notify($1, $2)', [channel, 'after stop']);
      await waitUntil('the notification to the remaining listener', () => others.includes('after stop'));
      expect(received).toEqual(['committed']);
      await stopOther();
    });

    it('applies migrations once, in version order, and records them', async () => {
      const owner = unique('owner');
      owners.push(owner);
      const name = table('migrated');
      const migrations: Migration[] = [
        { version: 2, name: 'add note', sql: `alter table ${name} add column note text not null` },
        {
          version: 1,
          name: 'create',
          sql: `create table ${name} (id int primary key);\ncreate index ${name}_id on ${name} (id);`,
        },
      ];
      expect((await runMigrations(db, owner, migrations)).map((m) => m.version)).toEqual([1, 2]);
      expect(await runMigrations(db, owner, migrations)).toEqual([]);

      const third: Migration = { version: 3, name: 'seed', sql: `insert into ${name} values (1, 'seeded')` };
      expect(await runMigrations(db, owner, [...migrations, third])).toEqual([third]);
      expect((await db.query(`select id, note from ${name}`)).rows).toEqual([{ id: 1, note: 'seeded' }]);

      const { rows } = await db.query<{ version: number; name: string; applied_at: Date }>(
        'select version, name, applied_at from keelson_schema_migrations where owner = $1 order by version',
        [owner],
      );
      expect(rows.map((r) => [r.version, r.name])).toEqual([
        [1, 'create'],
        [2, 'add note'],
        [3, 'seed'],
      ]);
      expect(rows[0]?.applied_at).toBeInstanceOf(Date);
    });

    it('leaves no trace of a migration run that failed, and names the migration', async () => {
      const owner = unique('owner');
      owners.push(owner);
      const name = table('half');
      const migrations: Migration[] = [
        { version: 1, name: 'create', sql: `create table ${name} (id int)` },
        { version: 2, name: 'broken', sql: `alter table ${name} add column oops no_such_type` },
      ];
      await expect(runMigrations(db, owner, migrations)).rejects.toThrow(
        new RegExp(`Migration 2 \\(broken\\) of "${owner}" failed`),
      );
      const { rows } = await db.query('select to_regclass($1) as found', [name]);
      expect(rows).toEqual([{ found: null }]);
      expect(
        (await db.query('select version from keelson_schema_migrations where owner = $1', [owner])).rows,
      ).toEqual([]);
    });

    it('refuses a migration list with a version twice', async () => {
      const twice: Migration[] = [
        { version: 1, name: 'a', sql: 'select 1' },
        { version: 1, name: 'b', sql: 'select 2' },
      ];
      await expect(runMigrations(db, 'twice', twice)).rejects.toThrow(/"twice" have version 1 twice/);
    });
  });
}

describeDatabaseBehaviour('pglite', () => PgliteDatabase.open());
describeDatabaseBehaviour(
  'postgres',
  async () => new PgDatabase({ connectionString: inject('postgresUrl') }),
);

describe('postgres adapter on a shared server', () => {
  it('applies each migration exactly once when two instances migrate at the same moment', async () => {
    const url = inject('postgresUrl');
    const instances = [new PgDatabase({ connectionString: url }), new PgDatabase({ connectionString: url })];
    const owner = unique('owner');
    const name = unique('raced');
    // Neither statement survives running twice: no IF NOT EXISTS, a primary key.
    const migrations: Migration[] = [
      { version: 1, name: 'create', sql: `create table ${name} (id int primary key)` },
      { version: 2, name: 'seed', sql: `insert into ${name} values (1)` },
    ];
    try {
      const results = await Promise.all(instances.map((db) => runMigrations(db, owner, migrations)));
      expect(results.map((applied) => applied.length).sort()).toEqual([0, 2]);
      const [db] = instances;
      expect((await db!.query(`select id from ${name}`)).rows).toEqual([{ id: 1 }]);
      expect(
        (
          await db!.query('select count(*)::int as n from keelson_schema_migrations where owner = $1', [
            owner,
          ])
        ).rows,
      ).toEqual([{ n: 2 }]);
    } finally {
      await instances[0]?.query(`drop table if exists ${name}`);
      await instances[0]?.query('delete from keelson_schema_migrations where owner = $1', [owner]);
      await Promise.all(instances.map((db) => db.close()));
    }
  });

  it('keeps listening after its connection was killed, and says so once with an empty payload', async () => {
    const db = new PgDatabase({ connectionString: inject('postgresUrl') });
    const channel = unique('killed');
    const received: string[] = [];
    try {
      const stop = await db.listen(channel, (payload) => received.push(payload));
      const { rows } = await db.query<{ killed: boolean }>(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity
          where query like 'LISTEN%' and query like '%' || $1 || '%'`,
        [channel],
      );
      expect(rows).toEqual([{ killed: true }]);

      await waitUntil('a notification after the reconnection', async () => {
        await db.query('select pg_notify($1, $2)', [channel, 'after']);
        return received.includes('after');
      });
      expect(received.filter((payload) => payload === '')).toHaveLength(1);
      await stop();
    } finally {
      await db.close();
    }
  });

  it('fails a transaction whose COMMIT turned into a ROLLBACK', async () => {
    const db = new PgDatabase({ connectionString: inject('postgresUrl') });
    try {
      const outcome = db.transaction(async (tx) => {
        await tx.query('select 1 / 0').catch(() => {});
      });
      await expect(outcome).rejects.toThrow(/rolled back/);
    } finally {
      await db.close();
    }
  });
});

describe('pglite adapter', () => {
  it('refuses a statement on the database from inside its own transaction instead of hanging', async () => {
    const db = await PgliteDatabase.open();
    try {
      const outcome = db.transaction(async () => {
        await db.query('select 1');
      });
      await expect(outcome).rejects.toThrow(/single connection/);
      // Work created inside a transaction may use the database once the transaction has ended.
      let later: Promise<unknown> | undefined;
      await db.transaction(async () => {
        later = new Promise((resolve) => setTimeout(resolve, 1)).then(() => db.query('select 1 as one'));
      });
      await expect(later).resolves.toEqual({ rows: [{ one: 1 }], rowCount: 1 });
    } finally {
      await db.close();
    }
  });

  it('keeps its data in a directory across restarts, creating missing parents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-pglite-'));
    try {
      const first = await PgliteDatabase.open({ dataDir: join(dir, 'nested', 'data') });
      await first.query('create table kept (id int)');
      await first.query('insert into kept values ($1)', [7]);
      await first.close();
      const second = await PgliteDatabase.open({ dataDir: join(dir, 'nested', 'data') });
      expect((await second.query('select id from kept')).rows).toEqual([{ id: 7 }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
