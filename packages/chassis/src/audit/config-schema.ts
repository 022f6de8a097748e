import type { ConfigSchema } from '../config/index.js';

export const auditConfigSchema = {
  audit: {
    enabled: {
      doc: 'Whether the audit log records entries: svc.audit.record(…) and routes with config.audit. Off: nothing is written and no hooks are installed.',
      format: Boolean,
      default: false,
    },
    sink: {
      doc: "Where records go: database (the keelson_audit_log table of svc.db, written in the caller's transaction when one is given) or log (JSON lines with audit: true through the service logger, written whatever log.level says).",
      format: ['database', 'log'] as const,
      default: 'database',
    },
    hashChain: {
      doc: "Tamper-evident ordering (database sink only): each row stores the SHA-256 of the previous row's hash and its own fields, writers are serialised by an advisory lock, and svc.audit.verify() reports the first broken link.",
      format: Boolean,
      default: false,
    },
    retentionDays: {
      doc: 'Days records are kept in the database before an hourly cleanup deletes them, oldest first; 0 keeps them forever.',
      format: 'nat',
      default: 0,
    },
    maxDetailsBytes: {
      doc: 'Largest details object of a record, in bytes of its JSON; a larger entry is refused with an error.',
      format: 'nat',
      default: 16384,
    },
  },
} satisfies ConfigSchema;
