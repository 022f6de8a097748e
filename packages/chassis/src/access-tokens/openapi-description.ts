import {
  type OperationDescriber,
  type ProblemResponse,
  RETRY_AFTER,
  type ResponseHeader,
} from '../http/index.js';
import { routeRequirement } from './route-options.js';

/** The name of the scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = 'bearerAuth';

const CHALLENGE: Readonly<Record<string, ResponseHeader>> = {
  'WWW-Authenticate': {
    description: 'The RFC 6750 Bearer challenge, with error and error_description when a token was refused.',
    schema: { type: 'string' },
  },
};

/**
 * What access tokens add to each operation: `security: []` on a public one; on the others the
 * bearer requirement with the route's scopes, 401, 403 when the route needs scopes or roles, and
 * 503 when the key set is fetched from the issuer.
 */
export function describeAccessTokens(
  isPublicPath: (path: string) => boolean,
  keysFetched: boolean,
): OperationDescriber {
  return ({ methods, url, route }) => {
    const requirement = routeRequirement(
      route.config?.auth,
      url,
      `${methods.join(',')} ${url}`,
      isPublicPath,
    );
    if (requirement.kind === 'public') return { security: [] };
    const problems: Record<number, ProblemResponse> = {
      401: {
        description: 'The access token (Authorization: Bearer) is missing, malformed, invalid or expired.',
        headers: CHALLENGE,
      },
    };
    const needs = [
      ...(requirement.scopes.length > 0 ? [`the scopes ${requirement.scopes.join(', ')}`] : []),
      ...(requirement.roles.length > 0 ? [`one of the roles ${requirement.roles.join(', ')}`] : []),
    ];
    if (needs.length > 0)
      problems[403] = { description: `The access token lacks ${needs.join(' or ')}.`, headers: CHALLENGE };
    if (keysFetched)
      problems[503] = {
        description: "The issuer's key set, needed to verify the token, cannot be fetched.",
        headers: RETRY_AFTER,
      };
    return { problems, security: [{ [BEARER_SCHEME]: requirement.scopes }] };
  };
}
