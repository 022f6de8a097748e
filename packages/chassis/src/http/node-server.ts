import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConnectionDrain } from './connection-drain.js';
import { type RejectionLog, rejectRequest } from './rejected-requests.js';
import { requestIdFor } from './request-id.js';

export interface NodeServerSettings {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/**
 * How often Node checks the request and header timeouts. Node's default is 30 s, which made a 3 s
 * request timeout fire after up to 33 s; 250 ms keeps every timeout within 250 ms of its setting at
 * the cost of one walk over the open connections per tick.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 250;

/** `http.headersTimeoutMs`, capped at the request timeout as Node requires (0 means the same). */
function headersTimeoutMs({ headersTimeoutMs, requestTimeoutMs }: NodeServerSettings): number {
  if (requestTimeoutMs === 0) return headersTimeoutMs;
  return headersTimeoutMs === 0 ? requestTimeoutMs : Math.min(headersTimeoutMs, requestTimeoutMs);
}

export interface NodeServer {
  server: Server;
  drain: ConnectionDrain;
}

/**
 * The Node HTTP server under fastify: timeouts checked often enough to be honest, a connection
 * limit, a front door that answers what must not reach routing (HTTP/1.1 without Host), and the
 * connection drain used at shutdown. What Node's parser rejects goes to fastify's
 * `clientErrorHandler` option (see rejected-requests.ts).
 */
export function createNodeServer(
  settings: NodeServerSettings,
  logRejection: RejectionLog,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): NodeServer {
  const server = createServer(
    {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: headersTimeoutMs(settings),
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      // Checked below, so that the answer is problem+json rather than Node's empty 400.
      requireHostHeader: false,
    },
    (req, res) => {
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
        rejectRequest(req, res, logRejection, 400, 'The request has no Host header.', requestIdFor(req));
        return;
      }
      handler(req, res);
    },
  );
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  if (settings.maxConnections > 0) server.maxConnections = settings.maxConnections;
  return { server, drain: new ConnectionDrain(server) };
}
