import { type CreateServiceOptions, createService } from '@keelson/chassis';
import { config } from './config.js';
// @@if database
import { migrations } from './migrations.js';
// @@endif
import { registerItemRoutes } from './routes/items.js';
// @@if !database
import { MemoryItemsStore } from './store/memory-items-store.js';
// @@endif
// @@if database
import { SqlItemsStore } from './store/sql-items-store.js';
// @@endif
// @keelson imports

/**
 * Creates __name__ with its routes, without starting it: `main.ts` starts it, the tests
 * start it on a free port, and `keelson config explain` loads it to read its configuration.
 */
export async function build__Name__(options: Partial<CreateServiceOptions<typeof config>> = {}) {
  const svc = await createService({
    name: '__name__',
    version: '0.1.0',
    config,
    plugins: [
      // @keelson plugins
    ],
    ...options,
  });

  // @@if database
  svc.db.addMigrations('__name__', migrations);
  const store = new SqlItemsStore(svc);
  // @@else
  // @@if messaging
  const store = new MemoryItemsStore(svc);
  // @@else
  const store = new MemoryItemsStore();
  // @@endif
  // @@endif
  registerItemRoutes(svc.http, store, {
    defaultLimit: svc.config.get('items.defaultPageSize'),
    maxLimit: svc.config.get('items.maxPageSize'),
  });
  // `keelson add route|consumer|plugin <name>` inserts its lines above these `@keelson` markers.
  // @keelson routes
  // @keelson consumers
  return svc;
}
