import { type CreateServiceOptions, createService } from '@keelson/chassis';
import { config } from './config.js';
import { ITEMS_CREATED, type ItemCreated } from './events.js';
import { handleItemCreated } from './handlers/item-created.js';
// @@if database
import { migrations } from './migrations.js';
// @@endif
// @keelson imports

/**
 * Creates __name__ with its consumers, without starting it: `main.ts` starts it, the
 * tests start it with a free port, and `keelson config explain` loads it to read its configuration.
 * Its HTTP server serves only the chassis' health checks and metrics.
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
  // @@endif

  // Queue `__name__.items.created`, shared by the instances of this service (competing consumers).
  svc.messaging.consume<ItemCreated>(
    ITEMS_CREATED,
    handleItemCreated({ log: svc.log, lowStockThreshold: svc.config.get('items.lowStockThreshold') }),
    // @@if database
    // Messages arrive at least once: the inbox skips the copies of a message already handled.
    { idempotent: true },
    // @@endif
  );
  // `keelson add consumer|route|plugin <name>` inserts its lines above these `@keelson` markers.
  // @keelson consumers
  // @keelson routes
  return svc;
}
