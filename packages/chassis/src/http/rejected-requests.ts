import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, problem } from './problem-details.js';
import { REQUEST_ID_HEADER } from './request-id.js';

interface ParserError extends Error {
  code?: string;
  /** llhttp's description of what was wrong, e.g. "Invalid method encountered". */
  reason?: string;
}

function statusFor(error: ParserError): { status: number; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { status: 408, detail: 'The request was not received in time.' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, detail: 'The request line or headers are too large.' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, detail: 'The request method is not valid.' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, detail: 'The request has both Content-Length and Transfer-Encoding.' };
    default:
      return {
        status: 400,
        detail: `The request is not valid HTTP${error.reason ? `: ${error.reason.replace(/[^\x20-\x7e]/g, '?')}` : ''}.`,
      };
  }
}

/** How many rejections a minute are logged one by one; beyond it, one line a minute counts them. */
const LOGGED_PER_MINUTE = 100;

/** Logs a rejected request; garbage traffic cannot turn it into a log flood (see LOGGED_PER_MINUTE). */
export type RejectionLog = (fields: Record<string, unknown>, detail: string) => void;

export function rejectionLog(log: Logger): RejectionLog {
  let windowStart = 0;
  let logged = 0;
  let unlogged = 0;
  return (fields, detail) => {
    const now = performance.now();
    if (now - windowStart >= 60_000) {
      if (unlogged > 0)
        log.warn(
          { unlogged },
          '%d more requests were rejected in the last minute, not logged one by one',
          unlogged,
        );
      windowStart = now;
      logged = 0;
      unlogged = 0;
    }
    if (logged++ < LOGGED_PER_MINUTE) log.info(fields, 'request rejected: %s', detail);
    else unlogged++;
  };
}

function problemBody(status: number, detail: string, requestId: string): string {
  return JSON.stringify({ ...problem(status, detail), requestId });
}

/**
 * Answers what Node's HTTP parser rejects (the server's `clientError`): problem+json with a request
 * id, logged and passed to `notify` (no request object exists, so fastify's hooks never see it), then
 * the connection closes (the parser cannot resynchronise on a broken stream).
 */
export function clientErrorHandler(
  logRejection: RejectionLog,
  notify: (statusCode: number) => void,
): (error: ParserError, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, detail } = statusFor(error);
    const requestId = randomUUID();
    logRejection({ requestId, statusCode: status, code: error.code }, detail);
    notify(status);
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !response?.headersSent) {
      const body = problemBody(status, detail, requestId);
      socket.write(
        `HTTP/1.1 ${status} ${problem(status).title}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
  };
}

/**
 * Answers a request that the front door turns away before routing (a missing Host header on
 * HTTP/1.1), in problem+json.
 */
export function rejectRequest(
  req: IncomingMessage,
  res: ServerResponse,
  logRejection: RejectionLog,
  status: number,
  detail: string,
  requestId: string,
): void {
  logRejection({ requestId, statusCode: status, method: req.method }, detail);
  const body = problemBody(status, detail, requestId);
  res.writeHead(status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: requestId,
    connection: 'close',
  });
  res.end(body);
}

/**
 * fastify's `frameworkErrors`: a URL that cannot be decoded (`/%zz`), a parameter over the length
 * limit, a failing route constraint. They skip fastify's hooks, so the request id is set here.
 */
export function frameworkErrorHandler(
  logRejection: RejectionLog,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
    const detail =
      error.code === 'FST_ERR_BAD_URL'
        ? 'The request URL is not valid: it has a malformed percent-encoding.'
        : status >= 500
          ? 'An unexpected error occurred. Quote the request id when reporting it.'
          : error.message;
    logRejection({ requestId: request.id, statusCode: status, code: error.code }, detail);
    reply
      .code(status)
      .type(PROBLEM_CONTENT_TYPE)
      .header(REQUEST_ID_HEADER, request.id)
      .send(problemBody(status, detail, request.id));
  };
}
