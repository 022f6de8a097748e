import { type CreateServiceOptions, createService } from '@keelson/chassis';

const config = {
  greeting: { doc: 'Word used to greet', format: String, default: 'Hello', env: 'GREETING' },
} as const;

interface Greeted {
  name: string;
}

/**
 * The hello service: a greeting route, and a greeting recorded in the database with an event
 * published through the outbox, which the service's own idempotent consumer counts. On the embedded
 * defaults (PGlite, in-process broker) it needs nothing installed; `DB_URL` and `MESSAGING_URL`
 * move it to PostgreSQL and RabbitMQ unchanged.
 */
export async function createHelloService(options: Partial<CreateServiceOptions<typeof config>> = {}) {
  const svc = await createService({ name: 'hello', version: '1.0.0', config, ...options });
  svc.db.addMigrations('hello', [
    {
      version: 1,
      name: 'greetings',
      sql: `create table greetings (id bigserial primary key, name text not null, at timestamptz not null default now());
            create table greeting_counts (name text primary key, count integer not null);`,
    },
  ]);

  svc.http.get(
    '/hello/:name',
    {
      schema: {
        summary: 'Greets someone by name',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: { type: 'object', properties: { message: { type: 'string' } } } },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      return { message: `${svc.config.get('greeting')}, ${name}!` };
    },
  );

  svc.http.post(
    '/greetings',
    {
      schema: {
        summary: 'Records a greeting and publishes greetings.created',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 202: { type: 'object', properties: { id: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const { name } = request.body as Greeted;
      const id = await svc.db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          'insert into greetings (name) values ($1) returning id',
          [name],
        );
        await svc.outbox.enqueue<Greeted>(tx, { topic: 'greetings.created', key: name, payload: { name } });
        return String(rows[0]?.id);
      });
      reply.code(202);
      return { id };
    },
  );

  svc.http.get(
    '/greetings/:name/count',
    {
      schema: {
        summary: 'How many greetings of a name the consumer has counted',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', maxLength: 64 } },
        },
        response: {
          200: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
        },
      },
    },
    async (request) => {
      const { name } = request.params as Greeted;
      const { rows } = await svc.db.query<{ count: number }>(
        'select count from greeting_counts where name = $1',
        [name],
      );
      return { name, count: rows[0]?.count ?? 0 };
    },
  );

  svc.messaging.consume<Greeted>(
    'greetings.created',
    async (message, { tx }) => {
      await tx?.query(
        `insert into greeting_counts (name, count) values ($1, 1)
         on conflict (name) do update set count = greeting_counts.count + 1`,
        [message.payload.name],
      );
    },
    { idempotent: true },
  );
  return svc;
}
