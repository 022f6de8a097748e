import type { MessageHandler, Service } from '@keelson/chassis';
import type { ItemCreated } from '../events.js';

export interface ItemCreatedOptions {
  log: Service['log'];
  lowStockThreshold: number;
}

/**
 * Handles `items.created`: flags an item that is low on stock and records it
 * @@if database
 * in `processed_items`, once per message (see service.ts).
 * @@else
 * in the log.
 * @@endif
 * A handler that throws is retried after `messaging.retry.delaysMs`; after
 * `messaging.retry.maxAttempts` deliveries the message goes to the dead-letter queue `<queue>.dlq`,
 * with the error in its headers.
 */
export function handleItemCreated(options: ItemCreatedOptions): MessageHandler<ItemCreated> {
  const { log, lowStockThreshold } = options;
  // @@if database
  return async (message, { tx }) => {
  // @@else
  return async (message) => {
  // @@endif
    const item = message.payload;
    const lowStock = item.quantity < lowStockThreshold;
    // @@if database
    // `tx` is the transaction in which the message id is recorded in the inbox (the consumer is
    // idempotent): the row and the id are committed together, so a redelivered copy of this message
    // is acknowledged without running the handler again.
    if (!tx) throw new Error('handleItemCreated runs in an idempotent consumer: { idempotent: true }');
    await tx.query('insert into processed_items (item_id, name, low_stock) values ($1, $2, $3)', [
      item.id,
      item.name,
      lowStock,
    ]);
    // @@endif
    log.info({ itemId: item.id, messageId: message.id, lowStock }, 'item processed');
  };
}
