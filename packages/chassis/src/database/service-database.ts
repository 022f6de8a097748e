import { createDatabase, type DatabaseSettings } from './create-database.js';
import type { DatabaseLog } from './database-log.js';
import type { Database, Migration, QueryResult, Transaction } from './database-port.js';
import { parseDatabaseUrl } from './database-url.js';
import { checkMigrations, runMigrations } from './migrations.js';
import type { PoolStats } from './pg-database.js';

export interface ServiceDatabaseOptions {
  /** The `db.*` settings. */
  settings: DatabaseSettings;
  log: DatabaseLog;
  /** Shown in PostgreSQL's `pg_stat_activity`: the service name. */
  applicationName?: string;
  /** Makes the adapter when the database opens; from `settings.url` when omitted. */
  connect?: () => Promise<Database>;
  /** Runs before every opening; throwing fails it (the production check of the embedded default). */
  beforeOpen?: () => void;
}

/** Runs once the database has opened and its migrations have run: where background work starts. */
export type OpenHook = (db: ServiceDatabase) => void | Promise<void>;

/**
 * The service's database, `svc.db`. Nothing is opened until the first query, transaction or listen
 * (or {@link open}): a service that never touches it pays nothing, not even PGlite's start-up. On
 * opening, every migration added so far runs before the first use resolves, then the open hooks run.
 * Concurrent first uses share one opening; a failed opening is logged and tried again on the next use.
 */
export class ServiceDatabase implements Database {
  readonly #options: ServiceDatabaseOptions;
  readonly #log: DatabaseLog;
  readonly #defaultKind: Database['kind'];
  #neededAtStart = false;
  readonly #migrations = new Map<string, Migration[]>();
  readonly #hooks: OpenHook[] = [];
  #adapter: Database | undefined;
  #opening: Promise<Database> | undefined;
  #closed = false;

  constructor(options: ServiceDatabaseOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#defaultKind = parseDatabaseUrl(options.settings.url).kind;
  }

  /** `postgres` or `pglite`; known from `db.url` before the database opens. */
  get kind(): Database['kind'] {
    return this.#adapter?.kind ?? this.#defaultKind;
  }

  /** Whether the database has opened (and is not closed). */
  get opened(): boolean {
    return this.#adapter !== undefined;
  }

  /** Whether something registered migrations without `whenUsed`: the database is needed from the start. */
  get neededAtStart(): boolean {
    return this.#neededAtStart;
  }

  /**
   * Registers the migrations of `owner` (a capability, or the service), applied when the database
   * opens. Call it while registering, before anything uses the database. Migrations mean the owner
   * needs the database, so it opens before the service is READY; `whenUsed` is for capabilities
   * that need it only if they are used (the inbox, the outbox), and leaves an unused embedded
   * database unopened.
   */
  addMigrations(owner: string, migrations: readonly Migration[], options: { whenUsed?: boolean } = {}): void {
    if (!options.whenUsed) this.#neededAtStart = true;
    if (this.#adapter || this.#opening)
      throw new Error(
        `Migrations of "${owner}" were added after the database opened: add them while the service registers, before its first use`,
      );
    const merged = [...(this.#migrations.get(owner) ?? []), ...migrations];
    checkMigrations(owner, merged);
    this.#migrations.set(owner, merged);
  }

  /** Runs `hook` once the database has opened; at once when it already has. A failing hook is logged. */
  onOpen(hook: OpenHook): void {
    if (this.#adapter) {
      void this.#runHook(hook);
      return;
    }
    this.#hooks.push(hook);
  }

  /** Opens the database now instead of on first use: at start, to fail fast on a wrong URL. */
  async open(): Promise<void> {
    await this.#use();
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return (await this.#use()).query<R>(sql, params);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return (await this.#use()).transaction(fn);
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return (await this.#use()).listen(channel, onNotify);
  }

  /** The PostgreSQL pool's connections; undefined for PGlite or while not opened. */
  poolStats(): PoolStats | undefined {
    const adapter = this.#adapter as (Database & { poolStats?: () => PoolStats }) | undefined;
    return adapter?.poolStats?.();
  }

  /** Closes the database (waiting for an opening in progress); later uses fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#opening?.catch(() => undefined);
    const adapter = this.#adapter;
    this.#adapter = undefined;
    await adapter?.close();
  }

  #use(): Promise<Database> {
    if (this.#adapter) return Promise.resolve(this.#adapter);
    if (this.#closed) return Promise.reject(new Error('The database is closed'));
    if (!this.#opening) {
      const opening = this.#open();
      this.#opening = opening;
      // Forgotten once settled: after a failure, the next use tries again.
      const forget = () => {
        if (this.#opening === opening) this.#opening = undefined;
      };
      opening.then(forget, forget);
    }
    return this.#opening;
  }

  async #open(): Promise<Database> {
    const { settings, log, applicationName, connect, beforeOpen } = this.#options;
    beforeOpen?.();
    let adapter: Database | undefined;
    try {
      adapter = connect
        ? await connect()
        : await createDatabase(settings, { log, ...(applicationName ? { applicationName } : {}) });
      if (this.#migrations.size === 0) await adapter.query('select 1');
      for (const [owner, migrations] of this.#migrations) {
        const applied = await runMigrations(adapter, owner, migrations);
        if (applied.length > 0)
          log.info(
            { owner, migrations: applied.map((m) => `${m.version} ${m.name}`) },
            'applied %d database migration(s) of %s',
            applied.length,
            owner,
          );
      }
    } catch (error) {
      await adapter?.close().catch(() => undefined);
      log.error({ err: error, kind: this.kind }, 'database could not be opened: the next use tries again');
      throw error;
    }
    if (this.#closed) {
      await adapter.close();
      throw new Error('The database was closed while it opened');
    }
    // Set before the hooks run: a hook uses the database, and must not wait for this very opening.
    this.#adapter = adapter;
    log.info({ kind: adapter.kind }, 'database opened (%s)', adapter.kind);
    for (const hook of this.#hooks.splice(0)) await this.#runHook(hook);
    return adapter;
  }

  async #runHook(hook: OpenHook): Promise<void> {
    try {
      await hook(this);
    } catch (error) {
      this.#log.error({ err: error }, 'a database open hook failed');
    }
  }
}
