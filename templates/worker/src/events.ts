/**
 * The events this service consumes: topic names and the payloads it expects. `items.created` is
 * published by the service that owns items (for example one made from Keelson's `http-api`
 * template); only read the fields you need, so that its producer can add more.
 */

/** A new item was stored. Keyed by the item id. */
export const ITEMS_CREATED = 'items.created';

export interface ItemCreated {
  id: string;
  name: string;
  quantity: number;
  /** ISO 8601 timestamp. */
  createdAt: string;
}
