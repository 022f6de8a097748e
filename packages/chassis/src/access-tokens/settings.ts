import type { InferConfig } from '../config/index.js';
import type { accessTokensConfigSchema } from './config-schema.js';

/** The `accessTokens.*` values, as `ctx.config.get('accessTokens')` returns them. */
export type AccessTokensSettings = InferConfig<typeof accessTokensConfigSchema>['accessTokens'];
