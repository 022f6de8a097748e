import { addConfigFormat, type ConfigSchema } from '../config/index.js';
import { checkDatabaseUrl } from './database-url.js';

// A named format (not the function itself in the schema), so the schema's type stays nameable.
addConfigFormat({
  name: 'database-url',
  description: 'a postgres:// URL, pglite:<directory>, pglite:memory, or empty',
  validate: checkDatabaseUrl,
  coerce: String,
});

export const databaseConfigSchema = {
  db: {
    url: {
      doc: 'The database: a postgres:// or postgresql:// URL (PostgreSQL through a connection pool), pglite:<directory> (embedded PGlite kept in that directory), or empty / pglite:memory (embedded PGlite in memory, lost on exit: the default). Use DB_URL_FILE for a secret file.',
      format: 'database-url',
      default: '',
      // A PostgreSQL URL carries the password.
      sensitive: true,
    },
    pool: {
      max: {
        doc: 'Most PostgreSQL connections the pool opens; queries beyond it wait for a free connection.',
        format: 'nat',
        default: 10,
      },
    },
    connectTimeoutMs: {
      doc: 'Time in ms to wait for a new PostgreSQL connection (or for a free one from a full pool) before the query fails.',
      format: 'nat',
      default: 5000,
    },
    statementTimeoutMs: {
      doc: "Time in ms a PostgreSQL statement may run before the server cancels it (PostgreSQL's statement_timeout); 0 for no limit.",
      format: 'nat',
      default: 0,
    },
    idleTimeoutMs: {
      doc: 'Time in ms an unused pooled PostgreSQL connection stays open before it is closed.',
      format: 'nat',
      default: 10000,
    },
  },
} satisfies ConfigSchema;
