export { dynamicConfigSchema } from './config-schema.js';
export { dynamicConfigPlugin } from './dynamic-config-plugin.js';
export type { ReloadOrigin } from './reload-origin.js';
