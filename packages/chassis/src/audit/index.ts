export { type AuditEntry, AuditEntryError, type AuditOutcome } from './audit-entry.js';
export { AuditLog } from './audit-log.js';
export { auditPlugin } from './audit-plugin.js';
export type { AuditVerification } from './audit-sink.js';
export { auditConfigSchema } from './config-schema.js';
export type { AuditRouteOptions } from './route-audit.js';
