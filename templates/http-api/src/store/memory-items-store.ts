import { randomUUID } from 'node:crypto';
// @@if messaging
import type { Service } from '@keelson/chassis';
import { ITEMS_CREATED, type ItemCreated } from '../events.js';
// @@endif
import type { Item, ItemPage, ItemsStore, NewItem } from './items-store.js';

/**
 * Items in a Map: they live as long as the process, and every instance has its own. Enough to
 * start with; keep them in a database before running more than one instance.
 */
export class MemoryItemsStore implements ItemsStore {
  readonly #items = new Map<string, Item>();
  // @@if messaging
  readonly #svc: Pick<Service, 'messaging' | 'log'>;

  constructor(svc: Pick<Service, 'messaging' | 'log'>) {
    this.#svc = svc;
  }
  // @@endif

  async create(input: NewItem): Promise<Item> {
    const item: Item = {
      id: randomUUID(),
      name: input.name,
      quantity: input.quantity,
      createdAt: new Date().toISOString(),
    };
    this.#items.set(item.id, item);
    // @@if messaging
    await this.#publishCreated(item);
    // @@endif
    return item;
  }

  async get(id: string): Promise<Item | undefined> {
    return this.#items.get(id);
  }

  async list({ limit, offset }: { limit: number; offset: number }): Promise<ItemPage> {
    const all = [...this.#items.values()];
    return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
  }
  // @@if messaging

  /**
   * Without a database there is no transaction for the event to join (no outbox): it is published
   * now, and lost when the broker cannot take it (for example while no queue is bound to the topic).
   */
  async #publishCreated(item: Item): Promise<void> {
    try {
      await this.#svc.messaging.publish<ItemCreated>({ topic: ITEMS_CREATED, key: item.id, payload: item });
    } catch (error) {
      this.#svc.log.warn({ err: error, itemId: item.id }, `${ITEMS_CREATED} not published`);
    }
  }
  // @@endif
}
