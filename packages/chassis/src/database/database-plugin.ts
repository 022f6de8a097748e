import { definePlugin, refuseEmbeddedInProduction } from '../core/index.js';
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
 * The database: PostgreSQL when `db.url` names a server, PGlite in-process otherwise. A database
 * the user configured (`db.url` set) or that a capability needs from the start (it added migrations)
 * opens before READY, so a wrong URL fails the start and the first request does not wait; the
 * in-memory default otherwise opens on first use. Closed in the `connections` shutdown phase.
 */
export const databasePlugin = definePlugin({
  name: 'database',
  dependencies: ['health', 'metrics'],
  config: databaseConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('db');
    const urlSet = ctx.config.explain().find((e) => e.key === 'db.url')?.origin !== 'default';
    const configured = urlSet || isConfiguredDatabase(parseDatabaseUrl(settings.url));
    const database = new ServiceDatabase({
      settings,
      log: ctx.log,
      applicationName: ctx.name,
      // At start for what is needed from the start; at first use for the rest (the outbox, the
      // inbox), which then fails with the same message rather than keep data in memory.
      beforeOpen: configured
        ? undefined
        : () =>
            refuseEmbeddedInProduction(
              ctx,
              'db.url',
              'the service would keep its data in an in-memory database that is gone at every restart',
              'a postgres:// URL, or pglite:<directory>',
            ),
    });
    ctx.provide('db', database);

    ctx.onStart(async () => {
      // Open before READY: the first request must not wait for the database to start.
      if (configured || database.neededAtStart) await database.open();
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
