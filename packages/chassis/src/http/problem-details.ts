import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An RFC 9457 problem details object, with Keelson's extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  /** One entry per failing field of a validation error. */
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface FieldError {
  /** Where the field is: body, querystring, params or headers. */
  in: string;
  /** JSON pointer to the field inside that part. */
  pointer: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  title?: string;
  detail?: string;
  /** A URI naming the problem type; `about:blank` when the status says it all. */
  type?: string;
  extensions?: Record<string, unknown>;
}

/** Throw from a handler to answer with a specific problem (status, title, detail, extensions). */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly statusCode: number;
  readonly problem: ProblemInit;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title ?? STATUS_CODES[init.status] ?? 'Error');
    this.statusCode = init.status;
    this.problem = init;
  }
}

/** A problem for a status code, with the standard reason phrase as its title. */
export function problem(
  status: number,
  detail?: string,
  extensions?: Record<string, unknown>,
): ProblemDetails {
  return {
    ...extensions,
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    ...(detail === undefined ? {} : { detail }),
  };
}
