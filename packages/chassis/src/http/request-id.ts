import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

// Bounded and restricted to characters that are safe in logs and headers.
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const REQUEST_ID = Symbol('keelson request id');

type RequestWithId = IncomingMessage & { [REQUEST_ID]?: string };

/** Keeps a caller's well-formed `x-request-id`, otherwise makes a new one. */
export function requestIdFor(req: IncomingMessage): string {
  const known = (req as RequestWithId)[REQUEST_ID];
  if (known !== undefined) return known;
  const inbound = req.headers[REQUEST_ID_HEADER];
  return typeof inbound === 'string' && VALID_REQUEST_ID.test(inbound) ? inbound : randomUUID();
}

/**
 * Assigns the request id on the raw server, before fastify sees the request, and echoes it on
 * the response. A raw listener costs a fraction of a fastify hook on every request.
 */
export function echoRequestIds(server: Server): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const id = requestIdFor(req);
    (req as RequestWithId)[REQUEST_ID] = id;
    res.setHeader(REQUEST_ID_HEADER, id);
  });
}
