import { type CreateServiceOptions, createService } from '@keelson/chassis';

const config = {
  greeting: { doc: 'Word used to greet', format: String, default: 'Hello', env: 'GREETING' },
} as const;

/** The hello service: one route, plus everything the chassis gives every service. */
export async function createHelloService(options: Partial<CreateServiceOptions<typeof config>> = {}) {
  const svc = await createService({ name: 'hello', version: '1.0.0', config, ...options });

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
  return svc;
}
