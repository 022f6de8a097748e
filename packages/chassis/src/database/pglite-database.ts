import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PGlite, type Transaction as PgliteTransaction, type Results, types } from '@electric-sql/pglite';
import { checkChannel, quoteIdentifier } from './channel-name.js';
import { type DatabaseLog, silentLog } from './database-log.js';
import type { Database, QueryResult, Transaction } from './database-port.js';

export interface PgliteDatabaseOptions {
  /** Directory the database lives in; in memory (lost on exit) when omitted. */
  dataDir?: string;
  /** Where listener callback failures are reported; nothing is logged when omitted. */
  log?: DatabaseLog;
}

/**
 * PGlite, PostgreSQL compiled to WebAssembly and run in this process: the embedded default, with the
 * same SQL as the server. It has a single connection. PGlite queues transactions and statements
 * itself, so a statement outside a transaction waits until the running transaction has ended; a
 * statement on the database (not on `tx`) from inside the transaction's own function would therefore
 * wait forever, and is refused with an error instead.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite';
  readonly #pg: PGlite;
  readonly #log: DatabaseLog;
  /** Set inside a transaction's function, so a call that would deadlock is recognised. */
  readonly #inTransaction = new AsyncLocalStorage<{ active: boolean }>();
  readonly #listening = new Map<string, number>();
  readonly #unsubscribes = new Set<() => void>();
  #closing: Promise<void> | undefined;

  private constructor(pglite: PGlite, log: DatabaseLog) {
    this.#pg = pglite;
    this.#log = log;
  }

  /** Starts PGlite (initialising the directory on first use); resolves once it answers queries. */
  static async open(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
    // PGlite creates the directory itself but not its parents: `pglite:.data/orders` must work.
    if (options.dataDir !== undefined) await mkdir(dirname(resolve(options.dataDir)), { recursive: true });
    const pglite = await PGlite.create({
      // `file://` makes PGlite keep the files on disk, whatever the directory's name looks like.
      ...(options.dataDir === undefined ? {} : { dataDir: `file://${resolve(options.dataDir)}` }),
      // As `pg` does: int8 (count(*), bigserial) as a string, since a JavaScript number loses
      // precision and a BigInt breaks JSON.stringify. Code runs the same on either adapter.
      parsers: { [types.INT8]: (value: string) => value },
    });
    return new PgliteDatabase(pglite, options.log ?? silentLog);
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    this.#refuseInsideTransaction('query');
    return run<R>(this.#pg, sql, params);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.#refuseInsideTransaction('transaction');
    return this.#pg.transaction(async (pgTx) => {
      const scope = { active: true };
      try {
        return await this.#inTransaction.run(scope, () =>
          fn({ query: <R>(sql: string, params?: readonly unknown[]) => run<R>(pgTx, sql, params) }),
        );
      } finally {
        // Timers and callbacks created inside the function keep the scope: they may use the database later.
        scope.active = false;
      }
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    checkChannel(channel);
    this.#refuseInsideTransaction('listen');
    // PGlite's own listen() lower-cases unquoted names and does not escape quotes: LISTEN is issued
    // here, quoted, and notifications are matched on the exact channel.
    const unsubscribe = this.#pg.onNotification((from, payload) => {
      if (from !== channel) return;
      try {
        onNotify(payload);
      } catch (error) {
        this.#log.error({ err: error, channel }, 'database listener callback threw');
      }
    });
    this.#listening.set(channel, (this.#listening.get(channel) ?? 0) + 1);
    try {
      await this.#pg.exec(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      unsubscribe();
      await this.#release(channel);
      throw error;
    }
    this.#unsubscribes.add(unsubscribe);
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      this.#unsubscribes.delete(unsubscribe);
      await this.#release(channel);
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const unsubscribe of this.#unsubscribes) unsubscribe();
      this.#unsubscribes.clear();
      if (!this.#pg.closed) await this.#pg.close();
    })();
    return this.#closing;
  }

  /** UNLISTEN once the last listener of a channel has stopped. */
  async #release(channel: string): Promise<void> {
    const left = (this.#listening.get(channel) ?? 1) - 1;
    if (left > 0) {
      this.#listening.set(channel, left);
      return;
    }
    this.#listening.delete(channel);
    if (!this.#pg.closed && !this.#closing) await this.#pg.exec(`UNLISTEN ${quoteIdentifier(channel)}`);
  }

  #refuseInsideTransaction(what: string): void {
    if (this.#inTransaction.getStore()?.active) {
      throw new Error(
        `db.${what}() was called inside a transaction's function on the embedded PGlite database, which has a single connection: it would wait for the transaction forever. Use the transaction's tx.query().`,
      );
    }
  }
}

/**
 * One statement through PGlite. Without parameters it goes through the simple protocol (as `pg` does),
 * so a migration can hold several statements; the result is the last statement's.
 */
async function run<R>(
  target: PGlite | PgliteTransaction,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  if (params && params.length > 0) return toResult<R>(await target.query<R>(sql, [...params]));
  const results = await target.exec(sql);
  return toResult<R>(results[results.length - 1] as Results<R> | undefined);
}

/** `rowCount` as `pg` reports it: rows returned by a SELECT, rows changed by INSERT/UPDATE/DELETE. */
function toResult<R>(result: Results<R> | undefined): QueryResult<R> {
  if (!result) return { rows: [], rowCount: 0 };
  const rowCount =
    result.rowCount ?? (result.command === 'SELECT' ? result.rows.length : (result.affectedRows ?? 0));
  return { rows: result.rows, rowCount };
}
