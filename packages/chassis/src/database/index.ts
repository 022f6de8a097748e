export { databaseConfigSchema } from './config-schema.js';
export { databasePlugin } from './database-plugin.js';
export type { Database, Migration, Queryable, QueryResult, Transaction } from './database-port.js';
export { runMigrations } from './migrations.js';
export type { PoolStats } from './pg-database.js';
export { type OpenHook, ServiceDatabase, type ServiceDatabaseOptions } from './service-database.js';
