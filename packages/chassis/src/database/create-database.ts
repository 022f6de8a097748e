import type { InferConfig } from '../config/index.js';
import type { databaseConfigSchema } from './config-schema.js';
import type { DatabaseLog } from './database-log.js';
import type { Database } from './database-port.js';
import { parseDatabaseUrl } from './database-url.js';

export type DatabaseSettings = InferConfig<typeof databaseConfigSchema>['db'];

/** The adapter `db.url` names, built from the `db.*` settings, ready for queries. */
export async function createDatabase(
  settings: DatabaseSettings,
  options: { log: DatabaseLog; applicationName?: string },
): Promise<Database> {
  const target = parseDatabaseUrl(settings.url);
  // Each adapter is loaded when first needed: a service that never touches its database does not
  // pay for loading `pg` and PGlite at start (some 70 ms together).
  if (target.kind === 'pglite') {
    const { PgliteDatabase } = await import('./pglite-database.js');
    return PgliteDatabase.open({
      ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
      log: options.log,
    });
  }
  const { PgDatabase } = await import('./pg-database.js');
  return new PgDatabase({
    connectionString: target.connectionString,
    maxConnections: settings.pool.max,
    connectTimeoutMs: settings.connectTimeoutMs,
    statementTimeoutMs: settings.statementTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    log: options.log,
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
  });
}
