export { infoConfigSchema } from './config-schema.js';
export { infoPlugin } from './info-plugin.js';
export type { ServiceInfo } from './service-info.js';
