import { describe, expect, it } from 'vitest';
import type { DatabaseSettings } from '../../src/database/create-database.js';
import type { DatabaseLog } from '../../src/database/database-log.js';
import type { Database, Migration } from '../../src/database/database-port.js';
import { PgliteDatabase } from '../../src/database/pglite-database.js';
import { ServiceDatabase } from '../../src/database/service-database.js';

const settings = (url = ''): DatabaseSettings => ({
  url,
  pool: { max: 10 },
  connectTimeoutMs: 5000,
  statementTimeoutMs: 0,
  idleTimeoutMs: 10000,
});

/** A logger that keeps what was logged at error level. */
function recordingLog(): DatabaseLog & { errors: unknown[] } {
  const errors: unknown[] = [];
  const ignore = () => {};
  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (...args: unknown[]) => errors.push(args),
  };
}

const notes: Migration[] = [
  { version: 1, name: 'create notes', sql: 'create table notes (id int primary key, body text)' },
  { version: 2, name: 'seed', sql: "insert into notes values (1, 'first')" },
];

/** A ServiceDatabase over in-memory PGlite that counts how often it connects. */
function counted(options: { failFirst?: boolean } = {}) {
  const calls = { connect: 0 };
  const log = recordingLog();
  const database = new ServiceDatabase({
    settings: settings(),
    log,
    connect: async (): Promise<Database> => {
      calls.connect++;
      if (options.failFirst && calls.connect === 1) throw new Error('server not there yet');
      return PgliteDatabase.open();
    },
  });
  return { database, calls, log };
}

describe('ServiceDatabase', () => {
  it('opens nothing until first used, knowing its kind from the URL', () => {
    const { database, calls } = counted();
    expect(database.opened).toBe(false);
    expect(database.kind).toBe('pglite');
    expect(calls.connect).toBe(0);
    const postgres = new ServiceDatabase({
      settings: settings('postgres://app:secret@127.0.0.1:1/app'),
      log: recordingLog(),
    });
    expect(postgres.kind).toBe('postgres');
    expect(postgres.opened).toBe(false);
  });

  it('opens once for concurrent first uses, runs the migrations first, then the open hooks', async () => {
    const { database, calls } = counted();
    const events: string[] = [];
    database.addMigrations('notes', notes);
    database.onOpen(async (db) => {
      const { rows } = await db.query<{ body: string }>('select body from notes');
      events.push(`hook saw ${rows.map((r) => r.body).join()}`);
    });
    try {
      const [a, b] = await Promise.all([
        database.query<{ n: number }>('select count(*)::int as n from notes'),
        database.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from notes')),
      ]);
      events.push('first use resolved');
      expect(a.rows).toEqual([{ n: 1 }]);
      expect(b.rows).toEqual([{ n: 1 }]);
      expect(calls.connect).toBe(1);
      expect(database.opened).toBe(true);
      expect(events).toEqual(['hook saw first', 'first use resolved']);

      // Once open: a new hook runs at once, and migrations can no longer be added.
      const late = new Promise<string>((resolve) => database.onOpen((db) => resolve(db.kind)));
      await expect(late).resolves.toBe('pglite');
      expect(() => database.addMigrations('late', notes)).toThrow(/after the database opened/);
    } finally {
      await database.close();
    }
    expect(database.opened).toBe(false);
    await expect(database.query('select 1')).rejects.toThrow(/closed/);
  });

  it('logs a failed opening and tries again on the next use', async () => {
    const { database, calls, log } = counted({ failFirst: true });
    database.addMigrations('notes', notes);
    try {
      await expect(database.query('select 1')).rejects.toThrow('server not there yet');
      expect(database.opened).toBe(false);
      expect(log.errors).toHaveLength(1);
      expect((await database.query('select body from notes')).rows).toEqual([{ body: 'first' }]);
      expect(calls.connect).toBe(2);
    } finally {
      await database.close();
    }
  });

  it('refuses migrations with a repeated version when they are added', () => {
    const { database } = counted();
    database.addMigrations('notes', notes);
    expect(() => database.addMigrations('notes', [{ version: 2, name: 'again', sql: 'select 1' }])).toThrow(
      /"notes" have version 2 twice/,
    );
  });
});
