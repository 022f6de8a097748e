import type { OperationDescriber, ProblemResponse, ResponseHeader } from './openapi-operations.js';

/** Methods whose requests fastify reads a body of; any route with a body schema does too. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const VALIDATED_PARTS = ['body', 'querystring', 'query', 'params', 'headers'] as const;

export const RETRY_AFTER: Readonly<Record<string, ResponseHeader>> = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
};

/**
 * The errors the HTTP server itself answers: 400 where a request part is validated or a body is
 * parsed, 413 and 415 where a body is read, 503 when the handler timeout applies, 500 everywhere.
 */
export function httpProblems(settings: { bodyLimit: number; handlerTimeoutMs: number }): OperationDescriber {
  return ({ methods, route }) => {
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const takesBody = schema.body !== undefined || methods.some((method) => BODY_METHODS.has(method));
    const validated = VALIDATED_PARTS.some((part) => schema[part] !== undefined);
    const timeoutMs = route.handlerTimeout ?? settings.handlerTimeoutMs;
    const problems: Record<number, ProblemResponse> = {};
    if (validated || takesBody)
      problems[400] = {
        description: validated
          ? 'The request does not match the schema (errors lists every failing field), or its body is malformed.'
          : 'The body is malformed.',
      };
    if (takesBody) {
      problems[413] = { description: `The body is larger than ${settings.bodyLimit} bytes.` };
      problems[415] = { description: 'The Content-Type of the body is not supported.' };
    }
    problems[500] = {
      description: 'An unexpected error; the answer carries no internals. Quote requestId when reporting it.',
    };
    if (timeoutMs > 0)
      problems[503] = {
        description: `The request did not complete within ${timeoutMs} ms and was cancelled.`,
        headers: RETRY_AFTER,
      };
    return { problems };
  };
}
