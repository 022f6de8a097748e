import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problem } from '../http/index.js';

/** RFC 6750 quoted-string values may not hold `"` or `\`; descriptions are ours, but be safe. */
const quote = (text: string) => `"${text.replace(/["\\]/g, "'")}"`;

/**
 * The RFC 6750 challenge: `Bearer realm="orders"` for a request without a token, with `error`,
 * `error_description` (and `scope` for missing scopes) when a token was refused.
 */
export function bearerChallenge(
  realm: string,
  error?: 'invalid_token' | 'insufficient_scope',
  description?: string,
  scopes?: readonly string[],
): string {
  let value = `Bearer realm=${quote(realm)}`;
  if (error) value += `, error=${quote(error)}`;
  if (description) value += `, error_description=${quote(description)}`;
  if (scopes && scopes.length > 0) value += `, scope=${quote(scopes.join(' '))}`;
  return value;
}

/**
 * Answers with a problem+json body and a challenge, straight from the hook: no error object, no
 * stack trace, so refusing a flood of bad tokens stays cheap.
 */
export function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  status: 401 | 403 | 503,
  detail: string,
  challenge: string | undefined,
): FastifyReply {
  const body = problem(status, detail);
  body.instance = request.url;
  body.requestId = request.id;
  if (challenge) reply.header('www-authenticate', challenge);
  // The key set is fetched again on the next token; give the issuer a few seconds.
  if (status === 503) reply.header('retry-after', 5);
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(body);
}
