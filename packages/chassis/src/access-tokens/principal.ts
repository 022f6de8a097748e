import type { JWTPayload } from 'jose';

/** Who called, as the verified access token says: `request.principal` on protected routes. */
export interface Principal {
  /** The `sub` claim; undefined when the token has none. */
  readonly subject: string | undefined;
  /** From `scope` (space-separated) or `scp` (a list or a space-separated string). */
  readonly scopes: readonly string[];
  /** From the claim named by `accessTokens.rolesClaim`. */
  readonly roles: readonly string[];
  /** Every claim of the token. */
  readonly claims: Readonly<JWTPayload>;
  /** The token itself, for calls the chassis client does not make; left out of JSON and logs. */
  readonly token: string;
}

/**
 * The principal of a verified token, frozen all the way down: requests presenting the same token
 * share it (see the token cache), so one handler must not be able to change what another sees.
 */
export function toPrincipal(claims: JWTPayload, token: string, rolesClaim: string): Principal {
  const principal: Omit<Principal, 'token'> = {
    subject: typeof claims.sub === 'string' ? claims.sub : undefined,
    scopes: Object.freeze(words(claims.scope ?? claims.scp)),
    roles: Object.freeze(words(claimAt(claims, rolesClaim))),
    claims: deepFreeze(claims),
  };
  // `token` is not enumerable: a principal that is logged or serialised must not carry the credential.
  Object.defineProperty(principal, 'token', { value: token, enumerable: false });
  return Object.freeze(principal) as Principal;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A claim by its exact name (which may hold dots, like a URL), else by a dotted path. */
function claimAt(claims: JWTPayload, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let node: unknown = claims;
  for (const part of name.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A list of strings from a list or a space-separated string; anything else is no entries. */
function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((w) => w !== '');
  if (Array.isArray(value)) return value.filter((w): w is string => typeof w === 'string' && w !== '');
  return [];
}
