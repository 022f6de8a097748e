/** What a query returns: the rows and how many rows the statement touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * Anything that runs SQL with `$1` parameters: a transaction of `svc.db`, the database itself, or a
 * user's own `pg` client (`pg.PoolClient` fits as it is), so the outbox can join any transaction.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A transaction in progress: commits when the function given to `transaction` resolves. */
export type Transaction = Queryable;

/** One versioned schema change of a capability (or of the service): applied once, in order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * A PostgreSQL database: `pg` pool in production, PGlite (PostgreSQL in-process) as the embedded
 * default. One adapter per file.
 */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws (and rethrows). */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** LISTEN on a channel (on a connection of its own); resolves to the function that stops it. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
