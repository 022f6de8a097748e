export { outboxConfigSchema } from './config-schema.js';
export { Outbox } from './outbox.js';
export { outboxPlugin } from './outbox-plugin.js';
