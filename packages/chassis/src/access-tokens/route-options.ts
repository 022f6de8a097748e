import type { FastifyRequest } from 'fastify';

/**
 * What a route asks of the caller, in its fastify `config`:
 * `{ config: { auth: false } }` (public), `{ config: { auth: { scopes: ['orders:write'] } } }`.
 */
export type RouteAuth =
  | boolean
  | {
      /** Scopes the token must carry, every one of them. */
      scopes?: readonly string[];
      /** Roles of which the token must carry at least one. */
      roles?: readonly string[];
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Access tokens: false for a public route, or the scopes and roles the route needs. */
    auth?: RouteAuth;
  }
}

/** What a route needs, resolved once per route. */
export type Requirement =
  | { kind: 'public' }
  | { kind: 'token'; scopes: readonly string[]; roles: readonly string[] };

const PUBLIC: Requirement = { kind: 'public' };
const TOKEN: Requirement = { kind: 'token', scopes: [], roles: [] };

/**
 * Reads a route's `config.auth`. Throws a TypeError naming the route for anything else than
 * true, false, or `{ scopes, roles }` with lists of strings, so a typo cannot leave a route open.
 */
export function parseRouteAuth(auth: unknown, route: string): Requirement {
  if (auth === undefined || auth === true) return TOKEN;
  if (auth === false) return PUBLIC;
  const problem = `Route ${route}: config.auth must be false, true, or { scopes?: string[], roles?: string[] }`;
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) throw new TypeError(problem);
  const { scopes = [], roles = [], ...rest } = auth as { scopes?: unknown; roles?: unknown };
  if (Object.keys(rest).length > 0)
    throw new TypeError(`${problem}; unknown: ${Object.keys(rest).join(', ')}`);
  if (!isWordList(scopes) || !isWordList(roles)) throw new TypeError(problem);
  return { kind: 'token', scopes, roles };
}

function isWordList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '' && !/\s|"|\\/.test(v));
}

/**
 * What a request needs: its route's requirement, found on the route's first request and kept (the
 * route's config object is its identity); for a request no route matched, by its path, so the
 * 404 answer needs a token too unless the path is public.
 */
export function requirementResolver(isPublicPath: (path: string) => boolean) {
  const requirements = new WeakMap<object, Requirement>();
  return (request: FastifyRequest): Requirement => {
    const config = request.routeOptions.config;
    const url = config.url;
    if (url === undefined) return isPublicPath(request.url.split('?', 1)[0] ?? '/') ? PUBLIC : TOKEN;
    let requirement = requirements.get(config);
    if (!requirement) {
      requirement = routeRequirement(config.auth, url, `${config.method} ${url}`, isPublicPath);
      requirements.set(config, requirement);
    }
    return requirement;
  };
}

/** What a route needs: its `config.auth`, or public when it has none and its URL is a public path. */
export function routeRequirement(
  auth: unknown,
  url: string,
  route: string,
  isPublicPath: (path: string) => boolean,
): Requirement {
  // The route's own config.auth is the more specific word, and wins over publicPaths.
  if (auth === undefined && isPublicPath(url)) return PUBLIC;
  return parseRouteAuth(auth, route);
}

/** The paths that never need a token, whatever the configuration says. */
export function alwaysPublicPaths(metricsPath: string): string[] {
  return ['/health/*', metricsPath, '/openapi.json', '/docs'];
}

/**
 * Matches route URLs and paths against `publicPaths`: a path entry is public itself and, as a
 * prefix, everything below it (`/public` covers `/public/a`, not `/publication`; `/public/*` is
 * the same). A route URL with parameters (`/orders/:id`) is that route only, not its sub-routes.
 */
export function publicPathMatcher(entries: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of entries) {
    const base = entry.replace(/\/?\*$/, '').replace(/\/+$/, '');
    if (base === '') return () => true;
    exact.add(base);
    if (!base.includes(':')) prefixes.push(`${base}/`);
  }
  return (path) => {
    if (exact.has(path)) return true;
    for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
    return false;
  };
}

/** What the principal lacks of the requirement: scopes missing, and whether no role matched. */
export function missingGrants(
  requirement: { scopes: readonly string[]; roles: readonly string[] },
  granted: { scopes: readonly string[]; roles: readonly string[] },
): { scopes: string[]; role: boolean } | undefined {
  const scopes = requirement.scopes.filter((s) => !granted.scopes.includes(s));
  const role = requirement.roles.length > 0 && !requirement.roles.some((r) => granted.roles.includes(r));
  return scopes.length > 0 || role ? { scopes, role } : undefined;
}
