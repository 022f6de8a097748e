import pg from 'pg';
import { checkChannel } from './channel-name.js';
import { type DatabaseLog, silentLog } from './database-log.js';
import type { Database, QueryResult, Transaction } from './database-port.js';
import { PgListener } from './pg-listener.js';

export interface PgDatabaseOptions {
  /** `postgres://user:password@host:port/database?…` */
  connectionString: string;
  /** Most connections the pool opens (`db.pool.max`); 10 when omitted. */
  maxConnections?: number;
  /** Time in ms to wait for a connection, new or from a full pool; 5000 when omitted. */
  connectTimeoutMs?: number;
  /** PostgreSQL's `statement_timeout` in ms; 0 or omitted for none. */
  statementTimeoutMs?: number;
  /** Time in ms an unused pooled connection stays open; 10000 when omitted. */
  idleTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name`: which service holds a connection. */
  applicationName?: string;
  /** Where connection trouble is reported; nothing is logged when omitted. */
  log?: DatabaseLog;
}

/** Connections of the pool right now, for the pool gauge. */
export interface PoolStats {
  total: number;
  idle: number;
  /** Queries and transactions waiting for a connection. */
  waiting: number;
}

/**
 * PostgreSQL through a `pg` pool. Transactions hold one pooled connection from BEGIN to COMMIT;
 * each `listen` holds a connection of its own, outside the pool, that reconnects by itself.
 */
export class PgDatabase implements Database {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  readonly #log: DatabaseLog;
  readonly #listeners = new Set<PgListener>();

  constructor(options: PgDatabaseOptions) {
    this.#log = options.log ?? silentLog;
    this.#connection = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    };
    this.#pool = new pg.Pool({
      ...this.#connection,
      max: options.maxConnections ?? 10,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    });
    // An idle pooled connection that drops (server restarted) is reported here; the pool discards
    // it and opens another on demand. Unhandled, the event would crash the process.
    this.#pool.on('error', (error) => {
      this.#log.warn({ err: error }, 'idle database connection failed; the pool replaces it');
    });
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return toResult<R>(await this.#pool.query(sql, params ? [...params] : undefined));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    // A checked-out connection has no error listener of the pool's: one that drops between two
    // statements would otherwise crash the process. The statement after it fails instead.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
      this.#log.warn({ err: error }, 'database connection failed during a transaction');
    };
    client.on('error', onError);
    const tx = new ClientTransaction(client);
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      tx.close();
      const commit = await client.query('COMMIT');
      // COMMIT of a transaction that an earlier statement aborted answers ROLLBACK, not an error.
      if (commit.command === 'ROLLBACK')
        throw new Error('The transaction was rolled back: a statement in it failed');
      return result;
    } catch (error) {
      tx.close();
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is in an unknown state: released with the error, the pool discards it.
        broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    checkChannel(channel);
    const listener = new PgListener({
      connection: { ...this.#connection, keepAlive: true },
      channel,
      onNotify,
      log: this.#log,
    });
    await listener.start();
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
      await listener.stop();
    };
  }

  /** The pool's connections right now. */
  poolStats(): PoolStats {
    return {
      total: this.#pool.totalCount,
      idle: this.#pool.idleCount,
      waiting: this.#pool.waitingCount,
    };
  }

  async close(): Promise<void> {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    await Promise.all(listeners.map((l) => l.stop()));
    if (!this.#pool.ended) await this.#pool.end();
  }
}

/** The `tx` given to a transaction's function: refuses statements once the transaction has ended. */
class ClientTransaction implements Transaction {
  readonly #client: pg.PoolClient;
  #closed = false;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    // A statement that arrives late (not awaited inside the function) must not run on a connection
    // that is back in the pool, inside somebody else's work.
    if (this.#closed)
      throw new Error('The transaction has ended: run statements before its function resolves');
    return toResult<R>(await this.#client.query(sql, params ? [...params] : undefined));
  }

  close(): void {
    this.#closed = true;
  }
}

/** A statement without parameters may hold several (a migration): `pg` then answers one result each. */
function toResult<R>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<R> {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
}
