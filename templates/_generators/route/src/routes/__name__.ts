import type { BuiltInConfig, Service } from '@keelson/chassis';

/** Routes of /__name__. The schemas validate requests and document them in /openapi.json. */
export function register__Name__Routes(svc: Pick<Service<BuiltInConfig>, 'http'>): void {
  svc.http.get(
    '/__name__/:id',
    {
      schema: {
        summary: 'Reads one __nameSingular__',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: { type: 'object', properties: { id: { type: 'string' } } } },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { id };
    },
  );
}
