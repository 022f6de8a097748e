export { type RateLimitSettings, rateLimitConfigSchema } from './config-schema.js';
export type { RateLimitStore, RateLimitStoreConstructor } from './fail-open-store.js';
export { type RateLimitPluginOptions, rateLimitPlugin } from './rate-limit-plugin.js';
