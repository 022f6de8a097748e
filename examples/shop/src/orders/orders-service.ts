import { randomUUID } from 'node:crypto';
import {
  type CreateServiceOptions,
  createService,
  HttpClientError,
  HttpStatusError,
  ProblemError,
} from '@keelson/chassis';
import { checkNotificationSent, NOTIFICATION_SENT, ORDER_PLACED, type OrderPlaced } from '../messages.js';
import { configDir } from '../shop-services.js';

interface OrderBody {
  sku: string;
  quantity: number;
}

interface OrderRow extends OrderBody {
  id: string;
  status: 'placed' | 'notified';
}

const order = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sku: { type: 'string' },
    quantity: { type: 'integer' },
    status: { type: 'string', enum: ['placed', 'notified'] },
  },
} as const;

/**
 * orders: `POST /orders` reserves stock at inventory (found through the registry; deadline, retries
 * with the order id as Idempotency-Key, circuit breaker), then stores the order and enqueues
 * `order.placed` in one transaction. `notification.sent` marks the order `notified`.
 */
export async function createOrdersService(options: Partial<CreateServiceOptions<{}>> = {}) {
  const svc = await createService({
    name: 'orders',
    version: '1.0.0',
    configDir: configDir('orders'),
    // No base URL: every attempt asks the registry for an inventory instance.
    clients: { inventory: {} },
    ...options,
  });
  svc.db.addMigrations('orders', [
    {
      version: 1,
      name: 'orders',
      sql: `create table orders (
              id text primary key,
              sku text not null,
              quantity integer not null,
              status text not null default 'placed',
              notifications integer not null default 0,
              placed_at timestamptz not null default now());`,
    },
  ]);
  const inventory = svc.clients.http('inventory');

  svc.http.post(
    '/orders',
    {
      schema: {
        summary: 'Places an order: reserves its stock and announces it',
        body: {
          type: 'object',
          required: ['sku', 'quantity'],
          additionalProperties: false,
          properties: {
            sku: { type: 'string', minLength: 1, maxLength: 64 },
            quantity: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const { sku, quantity } = request.body as OrderBody;
      const id = randomUUID();
      try {
        await inventory.post('/reservations', { sku, quantity }, { headers: { 'idempotency-key': id } });
      } catch (error) {
        throw reservationProblem(error, reply);
      }
      await svc.db.transaction(async (tx) => {
        await tx.query('insert into orders (id, sku, quantity) values ($1, $2, $3)', [id, sku, quantity]);
        await svc.outbox.enqueue<OrderPlaced>(tx, {
          topic: ORDER_PLACED,
          key: id,
          payload: { orderId: id, sku, quantity },
        });
      });
      request.log.info({ orderId: id, sku, quantity }, 'order placed');
      reply.code(201);
      return { id, status: 'placed' };
    },
  );

  svc.http.get(
    '/orders/:id',
    {
      schema: {
        summary: 'An order and its status: placed, then notified',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: order },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { rows } = await svc.db.query<OrderRow>(
        'select id, sku, quantity, status from orders where id = $1',
        [id],
      );
      if (!rows[0]) throw new ProblemError({ status: 404, detail: `no order "${id}"` });
      return rows[0];
    },
  );

  svc.messaging.consume(
    NOTIFICATION_SENT,
    async (message, { tx }) => {
      const { orderId } = checkNotificationSent(message.payload);
      const updated = await tx?.query(
        `update orders set status = 'notified', notifications = notifications + 1 where id = $1 returning id`,
        [orderId],
      );
      if (updated?.rows.length === 0) throw new Error(`${NOTIFICATION_SENT} for unknown order "${orderId}"`);
      svc.log.info({ orderId }, 'order notified');
    },
    { idempotent: true },
  );
  return svc;
}

/** What a failed reservation means for the caller: out of stock, a bad SKU, or inventory unavailable. */
function reservationProblem(error: unknown, reply: { header(name: string, value: string): unknown }) {
  if (error instanceof HttpStatusError && error.status === 409)
    return new ProblemError({ status: 409, title: 'Out of stock', detail: detailOf(error) });
  if (error instanceof HttpStatusError && (error.status === 404 || error.status === 422))
    return new ProblemError({ status: 422, detail: detailOf(error) });
  // Another 4xx is a bug on this side: a 500, not an outage.
  if (error instanceof HttpClientError && !(error instanceof HttpStatusError && error.status < 500)) {
    // Open circuit, refused connection, timeout, full bulkhead, 5xx: inventory cannot answer now.
    if (error.kind === 'circuit-open') reply.header('retry-after', '1');
    return new ProblemError({
      status: 503,
      title: 'Inventory unavailable',
      detail: `stock could not be reserved: ${error.message}`,
      extensions: { reason: error.kind },
    });
  }
  return error;
}

function detailOf(error: HttpStatusError): string {
  const body = error.body as { detail?: unknown } | undefined;
  return typeof body?.detail === 'string' ? body.detail : error.message;
}
