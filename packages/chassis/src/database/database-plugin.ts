import { definePlugin } from '../core/index.js';
import { databaseConfigSchema } from './config-schema.js';
import { isConfiguredDatabase, parseDatabaseUrl } from './database-url.js';
import { ServiceDatabase } from './service-database.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** The service's database: `ctx.db.query(…)`, `ctx.db.transaction(async (tx) => …)`. */
    db: ServiceDatabase;
  }
}

/**
 * The database: PostgreSQL when `db.url` names a server, PGlite in-process otherwise. A database the
 * user configured (a server, or a PGlite directory) opens at start, so a wrong URL or password fails
 * the start; the in-memory default opens on first use. Closed in the `connections` shutdown phase.
 */
export const databasePlugin = definePlugin({
  name: 'database',
  dependencies: ['health', 'metrics'],
  config: databaseConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('db');
    const database = new ServiceDatabase({ settings, log: ctx.log, applicationName: ctx.name });
    ctx.provide('db', database);

    ctx.onStart(async () => {
      if (isConfiguredDatabase(parseDatabaseUrl(settings.url))) await database.open();
    });
    ctx.onStop(() => database.close(), { phase: 'connections' });

    ctx.health.add({
      name: 'database',
      critical: true,
      check: async () => {
        // Opening here would defeat the lazy default: a database nobody used has nothing to check.
        if (!database.opened) return { output: 'not opened yet: it opens on first use' };
        await database.query('select 1');
        return { observedValue: database.kind };
      },
    });

    ctx.metrics.gauge({
      name: 'db_pool_connections',
      help: 'Connections of the PostgreSQL pool, by state: total (open), idle, waiting (callers waiting for a connection).',
      labelNames: ['state'],
      collect() {
        const stats = database.poolStats();
        if (!stats) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  },
});
