import { ConfigError, type ConfigViolation } from '../config/index.js';
import { definePlugin } from '../core/index.js';
import { AccessTokenError } from './access-token-error.js';
import { accessTokensConfigSchema } from './config-schema.js';
import { createKeySource } from './key-source.js';
import { BEARER_SCHEME, describeAccessTokens } from './openapi-description.js';
import type { Principal } from './principal.js';
import { createRequestGuard, type OutcomeCounters } from './request-guard.js';
import {
  alwaysPublicPaths,
  parseRouteAuth,
  publicPathMatcher,
  requirementResolver,
} from './route-options.js';
import { TokenForwarding } from './token-forwarding.js';
import { createTokenVerifier, type Outcome } from './verify-token.js';

/** Verifies tokens outside HTTP routes (a message header, a WebSocket handshake). */
export interface AccessTokens {
  /** Whether `accessTokens.enabled` is on. */
  readonly enabled: boolean;
  /** The principal of a valid token; rejects with an {@link AccessTokenError} otherwise. */
  verify(token: string): Promise<Principal>;
}

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** JWT access tokens: `ctx.accessTokens.verify(token)`; routes are checked by the plugin. */
    accessTokens: AccessTokens;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, from its verified access token; undefined on public routes. */
    principal?: Principal;
  }
}

const OUTCOMES: readonly Outcome[] = ['valid', 'missing', 'invalid', 'expired', 'forbidden', 'unavailable'];

/**
 * JWT access tokens (RFC 6750 bearer tokens, verified with jose): every route needs a valid token
 * unless it is public (`config: { auth: false }`, `accessTokens.publicPaths`, health, metrics,
 * OpenAPI); `config: { auth: { scopes, roles } }` adds RBAC. The verified caller is
 * `request.principal`, and its token travels on calls through `svc.clients`. Off by default.
 */
export const accessTokensPlugin = definePlugin({
  name: 'access-tokens',
  dependencies: ['http', 'tracing', 'metrics', 'health', 'clients'],
  config: accessTokensConfigSchema,
  async register(ctx) {
    const settings = ctx.config.get('accessTokens');
    if (!settings.enabled) {
      ctx.provide('accessTokens', {
        enabled: false,
        verify: () =>
          Promise.reject(new Error('Access tokens are not enabled: set accessTokens.enabled=true')),
      });
      // A route that asks for scopes while nothing checks them is open: say so once, at startup.
      const warned = new Set<string>();
      ctx.http.addHook('onRoute', (route) => {
        const auth = route.config?.auth;
        if (auth === undefined || auth === false || warned.has(route.url)) return;
        warned.add(route.url);
        ctx.log.warn(
          { route: route.url, method: route.method },
          'route %s declares config.auth, but accessTokens.enabled is false: it is not checked',
          route.url,
        );
      });
      return;
    }

    const originOf = (key: string) => ctx.config.explain().find((e) => e.key === key)?.origin ?? 'default';
    const violations: ConfigViolation[] = [];
    for (const path of settings.publicPaths)
      if (!path.startsWith('/'))
        violations.push({
          key: 'accessTokens.publicPaths',
          problem: `${JSON.stringify(path)} does not start with "/"`,
          origin: originOf('accessTokens.publicPaths'),
        });
    const keys = await createKeySource(settings, originOf, violations);
    if (violations.length > 0 || !keys) throw new ConfigError(violations);

    if (settings.audience.length === 0)
      ctx.log.warn('accessTokens.audience is empty: tokens issued for any audience are accepted');
    const verifier = createTokenVerifier(settings, keys);
    const config = ctx.config as unknown as { get(path: string): unknown };
    const isPublicPath = publicPathMatcher([
      ...alwaysPublicPaths(config.get('metrics.path') as string),
      ...settings.publicPaths,
    ]);

    const counter = ctx.metrics.counter({
      name: 'access_tokens_verified_total',
      help: 'Requests to protected routes by access token outcome: valid, missing, invalid, expired, forbidden (valid, but lacking a scope or role), unavailable (the key set could not be fetched).',
      labelNames: ['outcome'],
    });
    // Every series from the start (at 0), so rates and alerts see the outcomes that have not happened yet.
    for (const outcome of OUTCOMES) counter.inc({ outcome }, 0);
    const counted = Object.fromEntries(
      OUTCOMES.map((o) => [o, counter.labels({ outcome: o })]),
    ) as OutcomeCounters;

    const requirementOf = requirementResolver(isPublicPath);
    // A mistyped config.auth fails where the route is added, not on its first request.
    ctx.http.addHook('onRoute', (route) => {
      parseRouteAuth(route.config?.auth, `${route.method} ${route.url}`);
    });

    ctx.openapi.addSecurityScheme(BEARER_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: "A JWT access token; an operation's listed scopes must all be granted to it.",
    });
    ctx.openapi.describeOperations(describeAccessTokens(isPublicPath, keys.kind === 'jwks'));

    const forwarding = settings.forward ? new TokenForwarding(settings.forwardClients) : undefined;
    ctx.http.decorateRequest('principal', undefined);
    ctx.http.addHook(
      'onRequest',
      createRequestGuard({ realm: ctx.name, verifier, requirementOf, counted, forwarding, log: ctx.log }),
    );
    if (forwarding) ctx.clients.addRequestHeaders(forwarding.addHeaders);

    ctx.provide('accessTokens', {
      enabled: true,
      async verify(token) {
        const result = await verifier.verify(token);
        if (result.rejection) throw new AccessTokenError(result.rejection);
        return result.principal;
      },
    });

    const { prefetch, lastFailure } = keys;
    if (prefetch && lastFailure) {
      ctx.health.add({
        name: 'access-tokens:jwks',
        // Tokens verified with cached keys still pass; a failed fetch is a warning, not a stop.
        critical: false,
        check: () => {
          const failure = lastFailure();
          return failure ? { status: 'warn', output: `key set: ${failure}` } : undefined;
        },
      });
      // Fetched ahead of the first token, without holding up the start if the issuer is down.
      ctx.onStart(() => {
        prefetch().catch((error: unknown) =>
          ctx.log.warn(
            { err: error, url: settings.jwksUrl },
            'access tokens: the key set cannot be fetched yet',
          ),
        );
      });
    }
    ctx.log.debug(
      { keys: keys.kind, algorithms: settings.algorithms, forward: settings.forward },
      'access tokens required',
    );
  },
});
