import type { RouteOptions } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';

/** A route as the capabilities describing the OpenAPI document see it. */
export interface ApiOperation {
  /** Upper-case methods of the route: `['GET']`, or several for a route that takes more. */
  readonly methods: readonly string[];
  /** The route's URL template as fastify knows it, prefix included: `/orders/:id`. */
  readonly url: string;
  /** The route's options: `config`, `schema`, `handlerTimeout`. */
  readonly route: Readonly<RouteOptions>;
}

/** A header of an error response. */
export interface ResponseHeader {
  description: string;
  schema: { type: 'integer' | 'string' };
}

/** An error status a capability answers with `application/problem+json`. */
export interface ProblemResponse {
  /** When and why: one sentence. Several capabilities' sentences for one status are joined. */
  description: string;
  headers?: Readonly<Record<string, ResponseHeader>>;
}

/** What a capability adds to one operation. */
export interface OperationDescription {
  /** The error statuses it may answer the operation with, documented with the shared Problem schema. */
  problems?: Readonly<Record<number, ProblemResponse>>;
  /** The operation's Security Requirement Objects; `[]` for an operation anyone may call. */
  security?: readonly Readonly<Record<string, readonly string[]>>[];
}

/** Called for every route when the document is built; undefined when it adds nothing. */
export type OperationDescriber = (operation: ApiOperation) => OperationDescription | undefined;

/**
 * The OpenAPI document of the service (`ctx.openapi`): built from the route schemas, with what
 * every capability adds to the operations it acts on (the errors it answers, the security it
 * checks). Capabilities describe themselves here, so the document says what the server does.
 */
export interface OpenApi {
  /** Adds a describer; it is asked about every route, the routes added before it included. */
  describeOperations(describer: OperationDescriber): void;
  /** A security scheme of `components.securitySchemes`, for the requirements describers return. */
  addSecurityScheme(name: string, scheme: OpenAPIV3_1.SecuritySchemeObject): void;
  /**
   * The document: waits until every plugin and route is in (fastify's `ready`), never listens.
   * Built once; routes cannot be added afterwards.
   */
  document(): Promise<OpenAPIV3_1.Document>;
}

/** Joins the describers' answers for one operation: sentences of a shared status, every requirement. */
export function describeOperation(
  describers: readonly OperationDescriber[],
  operation: ApiOperation,
): { problems: Map<number, ProblemResponse>; security: Record<string, string[]>[] | undefined } {
  const problems = new Map<number, ProblemResponse>();
  let security: Record<string, string[]>[] | undefined;
  for (const describe of describers) {
    const description = describe(operation);
    if (!description) continue;
    for (const [key, added] of Object.entries(description.problems ?? {})) {
      const status = Number(key);
      const known = problems.get(status);
      problems.set(
        status,
        known
          ? {
              description: `${known.description} ${added.description}`,
              headers: { ...known.headers, ...added.headers },
            }
          : added,
      );
    }
    if (description.security)
      security = [
        ...(security ?? []),
        ...description.security.map((requirement) =>
          Object.fromEntries(Object.entries(requirement).map(([name, scopes]) => [name, [...scopes]])),
        ),
      ];
  }
  return { problems, security };
}
