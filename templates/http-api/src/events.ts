/**
 * The events this service publishes: topic names and payloads. Other services subscribe by topic
 * (`svc.messaging.consume('items.created', ...)`); treat a payload as a public contract and only
 * add fields to it.
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
