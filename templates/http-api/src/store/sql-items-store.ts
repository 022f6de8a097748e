import { randomUUID } from 'node:crypto';
import type { Service } from '@keelson/chassis';
// @@if messaging
import { ITEMS_CREATED, type ItemCreated } from '../events.js';
// @@endif
import type { Item, ItemPage, ItemsStore, NewItem } from './items-store.js';

interface ItemRow {
  id: string;
  name: string;
  quantity: number;
  created_at: Date;
}

const toItem = (row: ItemRow): Item => ({
  id: row.id,
  name: row.name,
  quantity: row.quantity,
  createdAt: row.created_at.toISOString(),
});

/** What the store uses of the service. */
// @@if messaging
type Dependencies = Pick<Service, 'db' | 'outbox'>;
// @@else
type Dependencies = Pick<Service, 'db'>;
// @@endif

/**
 * Items in the `items` table (see migrations.ts) of the service's database: PostgreSQL when `DB_URL`
 * is set, the embedded PGlite otherwise. Same SQL on both.
 */
export class SqlItemsStore implements ItemsStore {
  readonly #svc: Dependencies;

  constructor(svc: Dependencies) {
    this.#svc = svc;
  }

  async create(input: NewItem): Promise<Item> {
    const item: Item = {
      id: randomUUID(),
      name: input.name,
      quantity: input.quantity,
      createdAt: new Date().toISOString(),
    };
    await this.#svc.db.transaction(async (tx) => {
      await tx.query('insert into items (id, name, quantity, created_at) values ($1, $2, $3, $4)', [
        item.id,
        item.name,
        item.quantity,
        item.createdAt,
      ]);
      // @@if messaging
      // The event is written in the same transaction as the item: both are committed, or neither.
      // The outbox relay publishes it after the commit, at least once.
      await this.#svc.outbox.enqueue<ItemCreated>(tx, { topic: ITEMS_CREATED, key: item.id, payload: item });
      // @@endif
    });
    return item;
  }

  async get(id: string): Promise<Item | undefined> {
    const { rows } = await this.#svc.db.query<ItemRow>(
      'select id, name, quantity, created_at from items where id = $1',
      [id],
    );
    return rows[0] && toItem(rows[0]);
  }

  async list({ limit, offset }: { limit: number; offset: number }): Promise<ItemPage> {
    const { rows } = await this.#svc.db.query<ItemRow>(
      'select id, name, quantity, created_at from items order by created_at, id limit $1 offset $2',
      [limit, offset],
    );
    const count = await this.#svc.db.query<{ total: number }>('select count(*)::int as total from items');
    return { items: rows.map(toItem), total: count.rows[0]?.total ?? 0, limit, offset };
  }
}
