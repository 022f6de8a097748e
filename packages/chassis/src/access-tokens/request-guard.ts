import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { bearerChallenge, refuse } from './challenge.js';
import type { Principal } from './principal.js';
import { missingGrants, type Requirement } from './route-options.js';
import type { TokenForwarding } from './token-forwarding.js';
import { bearerToken, type Outcome, type TokenVerifier, type Verification } from './verify-token.js';

export type OutcomeCounters = Readonly<Record<Outcome, { inc(): void }>>;

export interface GuardDependencies {
  /** The realm of the challenges: the service name. */
  realm: string;
  verifier: TokenVerifier;
  /** What the request's route needs; throws for a malformed `config.auth`. */
  requirementOf(request: FastifyRequest): Requirement;
  counted: OutcomeCounters;
  forwarding: TokenForwarding | undefined;
  log: Logger;
}

type Protected = Extract<Requirement, { kind: 'token' }>;

/**
 * The `onRequest` hook: lets public routes and CORS preflights through, answers 401 (no or a bad
 * token), 403 (a valid token without the route's scopes or roles) or 503 (the key set cannot be
 * fetched) as problem+json with an RFC 6750 challenge, and puts the caller on `request.principal`.
 * Runs before the body is read, so a refused request costs no parsing.
 */
export function createRequestGuard(deps: GuardDependencies): onRequestHookHandler {
  const { realm, verifier, counted, forwarding, log } = deps;
  let keysDown = false;

  const admit = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
    requirement: Protected,
    principal: Principal,
  ) => {
    const missing = missingGrants(requirement, principal);
    if (missing) {
      counted.forbidden.inc();
      const parts: string[] = [];
      if (missing.scopes.length > 0) parts.push(`lacks the scope ${missing.scopes.join(', ')}`);
      if (missing.role) parts.push(`has none of the roles ${requirement.roles.join(', ')}`);
      const description = `The token ${parts.join(' and ')}.`;
      refuse(
        request,
        reply,
        403,
        description,
        bearerChallenge(realm, 'insufficient_scope', description, requirement.scopes),
      );
      return;
    }
    counted.valid.inc();
    request.principal = principal;
    if (forwarding) forwarding.enter(principal, done);
    else done();
  };

  const settle = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
    requirement: Protected,
    result: Verification,
  ) => {
    if (!result.rejection) {
      if (keysDown) {
        keysDown = false;
        log.info('access tokens: the key set is reachable again');
      }
      admit(request, reply, done, requirement, result.principal);
      return;
    }
    const { outcome, description, cause } = result.rejection;
    counted[outcome].inc();
    if (outcome === 'unavailable') {
      if (!keysDown) log.warn({ err: cause }, 'access tokens: the key set cannot be fetched; answering 503');
      keysDown = true;
      refuse(request, reply, 503, description, undefined);
      return;
    }
    // Attackers choose what lands here: debug, not warn.
    if (cause !== undefined) log.debug({ err: cause }, 'access token not verified');
    refuse(request, reply, 401, description, bearerChallenge(realm, 'invalid_token', description));
  };

  return (request, reply, done) => {
    let requirement: Requirement;
    try {
      requirement = deps.requirementOf(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    // CORS preflights never carry credentials (Fetch standard); the CORS handling answers them.
    if (
      requirement.kind === 'public' ||
      (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined)
    ) {
      done();
      return;
    }
    const bearer = bearerToken(request.headers.authorization);
    if ('rejection' in bearer) {
      const { outcome, description } = bearer.rejection;
      counted[outcome].inc();
      const challenge =
        outcome === 'missing' ? bearerChallenge(realm) : bearerChallenge(realm, 'invalid_token', description);
      refuse(request, reply, 401, description, challenge);
      return;
    }
    // A token seen before is answered in this tick, without a promise.
    const known = verifier.cached(bearer.token);
    if (known) {
      admit(request, reply, done, requirement, known);
      return;
    }
    verifier
      .verify(bearer.token)
      .then((result) => settle(request, reply, done, requirement, result))
      // Never an unhandled rejection: that would take the process down.
      .catch((error: Error) => {
        if (reply.sent) log.error({ err: error }, 'access tokens: failure after the reply was sent');
        else done(error);
      });
  };
}
