import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onResponseHookHandler,
  RouteOptions,
} from 'fastify';
import type { AuditOutcome } from './audit-entry.js';
import { MAX_LENGTHS } from './audit-entry.js';

/** `config.audit` of a route: the action it performs and, optionally, the resource it acts on. */
export interface AuditRouteOptions {
  /** What the route does, e.g. `orders.create`. */
  action: string;
  /** The resource, fixed or computed from the request and reply, e.g. `(req) => \`order:${req.params.id}\``. */
  resource?: string | ((request: FastifyRequest, reply: FastifyReply) => string | undefined);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Records an audit entry after the response, with the outcome taken from the status code. */
    audit?: AuditRouteOptions;
  }
}

/** What a route's audit hook hands over once its response has been sent. */
export type RouteRecorder = (
  request: FastifyRequest,
  reply: FastifyReply,
  options: AuditRouteOptions,
) => void;

/** 2xx and 3xx: success; 401 and 403: denied; anything else: failure. */
export function outcomeForStatus(status: number): AuditOutcome {
  if (status >= 200 && status < 400) return 'success';
  if (status === 401 || status === 403) return 'denied';
  return 'failure';
}

/**
 * Gives each route declared with `config.audit` an `onResponse` hook of its own, so routes without
 * it pay nothing. A malformed option fails the route's declaration, naming the route.
 */
export function installRouteAudit(app: FastifyInstance, recordAfterResponse: RouteRecorder): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const options = route.config?.audit;
    if (options === undefined) return;
    checkRouteOptions(options, `${String(route.method)} ${route.url}`);
    const hook: onResponseHookHandler = (request, reply, done) => {
      recordAfterResponse(request, reply, options);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : [...[existing].flat(), hook];
  });
}

function checkRouteOptions(options: unknown, route: string): void {
  const problem = (text: string) => new TypeError(`Route ${route}: config.audit ${text}`);
  if (options === null || typeof options !== 'object')
    throw problem('must be an object such as { action: "orders.create" }');
  const { action, resource } = options as Record<string, unknown>;
  if (typeof action !== 'string' || action.trim() === '')
    throw problem('needs an action: a non-empty string such as "orders.create"');
  if (action.length > MAX_LENGTHS.action)
    throw problem(`action is longer than ${MAX_LENGTHS.action} characters`);
  if (resource !== undefined && typeof resource !== 'string' && typeof resource !== 'function')
    throw problem('resource must be a string or a function of the request');
}
