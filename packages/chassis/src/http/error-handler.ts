import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorChannel } from '../core/index.js';
import {
  type FieldError,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  ProblemError,
  problem,
} from './problem-details.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** fastify's error when `handlerTimeout` passes; request.signal is aborted at the same time. */
const HANDLER_TIMEOUT = 'FST_ERR_HANDLER_TIMEOUT';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Turns fastify's validation result into one entry per failing field. */
function fieldErrors(error: FastifyError): FieldError[] {
  const where = error.validationContext ?? 'body';
  return (error.validation as ValidationIssue[]).map((issue) => {
    const missing = issue.keyword === 'required' ? `/${String(issue.params.missingProperty)}` : '';
    const extra =
      issue.keyword === 'additionalProperties' ? `/${String(issue.params.additionalProperty)}` : '';
    return {
      in: where,
      pointer: `${issue.instancePath}${missing}${extra}` || '/',
      message: issue.message ?? issue.keyword,
    };
  });
}

function toProblem(error: FastifyError, exposeInternals: boolean): ProblemDetails {
  if (error instanceof ProblemError) {
    const { status, title, detail, type, extensions } = error.problem;
    return { ...problem(status, detail, extensions), ...(title ? { title } : {}), ...(type ? { type } : {}) };
  }
  if (error.code === HANDLER_TIMEOUT) {
    return problem(503, 'The request did not complete in time; it was cancelled. Retry later.');
  }
  if (error.validation) {
    return problem(400, 'The request is not valid; see errors for each field.', {
      errors: fieldErrors(error),
    });
  }
  const status =
    typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
      ? error.statusCode
      : 500;
  if (status < 500) return problem(status, error.message);
  if (!exposeInternals)
    return problem(status, 'An unexpected error occurred. Quote the request id when reporting it.');
  return problem(status, error.message, { stack: error.stack?.split('\n') });
}

/** Reports a 5xx to the error channel; false when nobody listens. */
function reportFailure(
  errors: Pick<ErrorChannel, 'report'>,
  error: unknown,
  request: FastifyRequest,
  statusCode: number,
): boolean {
  const route = request.routeOptions.url;
  return errors.report(error, {
    source: 'http',
    requestId: request.id,
    method: request.method,
    statusCode,
    ...(route ? { route } : {}),
  });
}

/**
 * Every error becomes `application/problem+json` (RFC 9457): validation errors list each failing
 * field, unknown routes are 404 and wrong methods 405 with `Allow`, and a 5xx is logged with its
 * request id (or reported to exception tracking, which logs it) but answered without internals
 * unless the service runs in development.
 */
export function installProblemHandlers(
  app: FastifyInstance,
  options: { exposeInternals: boolean; errors: Pick<ErrorChannel, 'report'> },
): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const body = toProblem(error, options.exposeInternals);
    // A timed-out handler is an overloaded or stuck dependency, not a bug: a warning, not a report.
    if (error.code === HANDLER_TIMEOUT)
      request.log.warn({ route: request.routeOptions.url }, 'request cancelled: %s', error.message);
    else if (body.status >= 500 && !reportFailure(options.errors, error, request, body.status))
      request.log.error({ err: error }, 'request failed');
    body.instance = request.url;
    body.requestId = request.id;
    if (body.status === 429 || body.status === 503)
      reply.header('retry-after', reply.getHeader('retry-after') ?? 1);
    return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    // A route of this method that answered "not found" (a missing static file) is a 404, not a 405.
    const allowed = app.findRoute({ method: request.method, url: path })
      ? []
      : METHODS.filter((method) => method !== request.method && app.findRoute({ method, url: path }));
    const body =
      allowed.length > 0
        ? problem(405, `${request.method} is not supported on ${path}.`)
        : problem(404, `No route for ${request.method} ${path}.`);
    if (allowed.length > 0) reply.header('allow', allowed.join(', '));
    body.instance = request.url;
    body.requestId = request.id;
    return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });
}
