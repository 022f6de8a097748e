import type { FastifyInstance, onSendHookHandler } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem-details.js';
import { PROBLEM_MEDIA_TYPE } from './problem-schema.js';

const isErrorKey = (key: string) => /^[45](\d\d|xx)$/i.test(key);

/** The error statuses (`404`, `4xx`) a route declares with a plain schema, without a content map. */
function plainErrorKeys(response: unknown): string[] {
  if (!response || typeof response !== 'object') return [];
  return Object.entries(response as Record<string, unknown>)
    .filter(([key, schema]) => isErrorKey(key) && !(schema as { content?: unknown } | null)?.content)
    .map(([key]) => key.toLowerCase());
}

/**
 * Errors are problem+json in Keelson: a thrown error is answered so, and a route's own error
 * schema (`response: { 404: schema }`) is documented so. This makes the server agree when the
 * handler sends such a status itself (`reply.code(404).send(body)`): a JSON answer of a declared
 * error status goes out as `application/problem+json`. A route that documents another media type
 * uses a content map (`404: { content: { 'application/json': { schema } } }`) and is left alone.
 */
export function serveDeclaredProblems(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const keys = new Set(plainErrorKeys(route.schema?.response));
    if (keys.size === 0) return;
    const asProblem: onSendHookHandler = (_request, reply, payload, done) => {
      const status = String(reply.statusCode);
      if (
        (keys.has(status) || keys.has(`${status[0]}xx`)) &&
        String(reply.getHeader('content-type') ?? '').startsWith('application/json')
      )
        reply.type(PROBLEM_CONTENT_TYPE);
      done(null, payload);
    };
    route.onSend = [...[route.onSend ?? []].flat(), asProblem];
  });
}

/** The route's response schemas for the document: its plain error schemas as problem+json. */
export function documentDeclaredProblems(response: Record<string, unknown>): Record<string, unknown> {
  const keys = new Set(plainErrorKeys(response));
  return Object.fromEntries(
    Object.entries(response).map(([key, schema]) => {
      if (!keys.has(key.toLowerCase())) return [key, schema];
      const { description, headers, ...body } = schema as Record<string, unknown>;
      return [
        key,
        {
          description: description ?? 'Default Response',
          ...(headers ? { headers } : {}),
          content: { [PROBLEM_MEDIA_TYPE]: { schema: body } },
        },
      ];
    }),
  );
}
