export { registryConfigSchema } from './config-schema.js';
export { Discovery } from './discovery.js';
export { type ListInstancesOptions, listRegisteredInstances } from './list-instances.js';
export { registryPlugin } from './registry-plugin.js';
export type { Registry } from './registry-port.js';
export type { InstanceState, ServiceInstance } from './service-instance.js';
