import type { Migration } from '@keelson/chassis';

/**
 * The service's tables. Each migration runs once, in version order, when the database opens (in one
 * transaction, under a lock, so instances starting together apply it once). Never edit a migration
 * that has run somewhere: add the next version.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'items',
    sql: `create table items (
            id uuid primary key,
            name text not null,
            quantity integer not null,
            created_at timestamptz not null
          );
          create index items_created_at on items (created_at, id);`,
  },
];
