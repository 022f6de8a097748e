export { AccessTokenError } from './access-token-error.js';
export { type AccessTokens, accessTokensPlugin } from './access-tokens-plugin.js';
export { accessTokensConfigSchema } from './config-schema.js';
export type { Principal } from './principal.js';
export type { RouteAuth } from './route-options.js';
