import { type CreateServiceOptions, createService, ProblemError, type Queryable } from '@keelson/chassis';
import { configDir } from '../shop-services.js';

const config = {
  stock: {
    seed: {
      doc: 'Stock per SKU written at start for SKUs the database does not know yet, as a JSON object (SKU → units).',
      format(value: unknown) {
        const entries = Object.entries((value ?? {}) as Record<string, unknown>);
        const bad = entries.filter(([, n]) => !Number.isInteger(n) || (n as number) < 0).map(([sku]) => sku);
        if (typeof value !== 'object' || value === null || Array.isArray(value) || bad.length > 0)
          throw new TypeError(
            `must map SKUs to whole numbers ≥ 0 (bad: ${bad.join(', ') || 'not an object'})`,
          );
      },
      default: { 'sku-1': 100, 'sku-2': 50, 'sku-3': 10 } as Record<string, number>,
      env: 'STOCK_SEED',
    },
  },
} as const;

interface ReservationBody {
  sku: string;
  quantity: number;
}

const sku = { type: 'string', minLength: 1, maxLength: 64 } as const;
const stockLevel = {
  type: 'object',
  properties: { sku: { type: 'string' }, available: { type: 'integer' } },
} as const;

/**
 * inventory: stock per SKU and reservations against it. A reservation is idempotent by its
 * `Idempotency-Key` (orders sends the order id, so its retries reserve once), and stock never goes
 * below zero: the decrement is conditional and the column has a check constraint.
 */
export async function createInventoryService(options: Partial<CreateServiceOptions<typeof config>> = {}) {
  const svc = await createService({
    name: 'inventory',
    version: '1.0.0',
    configDir: configDir('inventory'),
    config,
    ...options,
  });
  svc.db.addMigrations('inventory', [
    {
      version: 1,
      name: 'stock and reservations',
      sql: `create table stock (sku text primary key, available integer not null check (available >= 0));
            create table reservations (
              idempotency_key text primary key,
              sku text not null references stock (sku),
              quantity integer not null check (quantity > 0),
              reserved_at timestamptz not null default now());`,
    },
  ]);
  svc.onStart(async () => {
    const seed = Object.entries(svc.config.get('stock.seed'));
    if (seed.length === 0) return;
    await svc.db.query(
      `insert into stock (sku, available) select * from unnest($1::text[], $2::int[]) on conflict (sku) do nothing`,
      [seed.map(([s]) => s), seed.map(([, n]) => n)],
    );
  });

  svc.http.post(
    '/reservations',
    {
      schema: {
        summary: 'Reserves stock; a repeated Idempotency-Key answers the first reservation again',
        headers: {
          type: 'object',
          required: ['idempotency-key'],
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 128 } },
        },
        body: {
          type: 'object',
          required: ['sku', 'quantity'],
          additionalProperties: false,
          properties: { sku, quantity: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              sku: { type: 'string' },
              quantity: { type: 'integer' },
              available: { type: 'integer' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'] as string;
      const { sku, quantity } = request.body as ReservationBody;
      const reserved = await svc.db.transaction(async (tx) => {
        // The key's row first: a concurrent retry of the same key waits here for the first to commit.
        const claimed = await tx.query(
          `insert into reservations (idempotency_key, sku, quantity) select $1, $2, $3
           where exists (select 1 from stock where sku = $2)
           on conflict (idempotency_key) do nothing returning idempotency_key`,
          [key, sku, quantity],
        );
        if (claimed.rows.length === 0) {
          const { rows } = await tx.query<ReservationBody>(
            'select sku, quantity from reservations where idempotency_key = $1',
            [key],
          );
          const earlier = rows[0];
          if (!earlier) throw new ProblemError({ status: 404, detail: `unknown SKU "${sku}"` });
          if (earlier.sku !== sku || earlier.quantity !== quantity)
            throw new ProblemError({
              status: 422,
              detail: `Idempotency-Key "${key}" was used for ${earlier.quantity} × ${earlier.sku}`,
            });
          return { ...earlier, available: await available(tx, sku) };
        }
        const { rows } = await tx.query<{ available: number }>(
          'update stock set available = available - $2 where sku = $1 and available >= $2 returning available',
          [sku, quantity],
        );
        // Throwing rolls the reservation back with the transaction.
        if (!rows[0])
          throw new ProblemError({
            status: 409,
            title: 'Out of stock',
            detail: `${quantity} × ${sku} requested, ${await available(tx, sku)} available`,
          });
        request.log.info({ sku, quantity, key, available: rows[0].available }, 'stock reserved');
        return { sku, quantity, available: rows[0].available };
      });
      reply.code(201);
      return reserved;
    },
  );

  svc.http.get(
    '/stock/:sku',
    {
      schema: {
        summary: 'Units of a SKU available for reservation',
        params: { type: 'object', required: ['sku'], properties: { sku } },
        response: { 200: stockLevel },
      },
    },
    async (request) => {
      const { sku } = request.params as { sku: string };
      const { rows } = await svc.db.query<{ available: number }>(
        'select available from stock where sku = $1',
        [sku],
      );
      if (!rows[0]) throw new ProblemError({ status: 404, detail: `unknown SKU "${sku}"` });
      return { sku, available: rows[0].available };
    },
  );
  return svc;
}

async function available(tx: Queryable, sku: string): Promise<number> {
  const { rows } = await tx.query<{ available: number }>('select available from stock where sku = $1', [sku]);
  return rows[0]?.available ?? 0;
}
