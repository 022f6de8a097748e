export { type LoadSheddingSettings, loadSheddingConfigSchema } from './config-schema.js';
export { loadSheddingPlugin } from './load-shedding-plugin.js';
