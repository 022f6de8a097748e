/** The events the shop's services exchange through the broker: the contract between them. */

/** Published by orders (through its outbox) when an order is stored. */
export const ORDER_PLACED = 'order.placed';
/** Published by notifications (through its outbox) once the customer was notified. */
export const NOTIFICATION_SENT = 'notification.sent';

export interface OrderPlaced {
  orderId: string;
  sku: string;
  quantity: number;
}

export interface NotificationSent {
  orderId: string;
}

/** Checks an `order.placed` payload; a message that fails it is poison and ends in the DLQ with the reason. */
export function checkOrderPlaced(payload: unknown): OrderPlaced {
  const p = payload as Partial<OrderPlaced> | null;
  const problems = [
    typeof p?.orderId === 'string' && p.orderId !== '' ? '' : 'orderId must be a non-empty string',
    typeof p?.sku === 'string' && p.sku !== '' ? '' : 'sku must be a non-empty string',
    Number.isInteger(p?.quantity) && (p?.quantity ?? 0) >= 1 ? '' : 'quantity must be an integer ≥ 1',
  ].filter(Boolean);
  if (problems.length > 0) throw new TypeError(`invalid ${ORDER_PLACED} payload: ${problems.join('; ')}`);
  return p as OrderPlaced;
}

/** Checks a `notification.sent` payload. */
export function checkNotificationSent(payload: unknown): NotificationSent {
  const p = payload as Partial<NotificationSent> | null;
  if (typeof p?.orderId !== 'string' || p.orderId === '')
    throw new TypeError(`invalid ${NOTIFICATION_SENT} payload: orderId must be a non-empty string`);
  return p as NotificationSent;
}
