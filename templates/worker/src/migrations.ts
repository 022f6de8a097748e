import type { Migration } from '@keelson/chassis';

/**
 * The service's tables. Each migration runs once, in version order, when the database opens (in one
 * transaction, under a lock, so instances starting together apply it once). Never edit a migration
 * that has run somewhere: add the next version.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'processed_items',
    sql: `create table processed_items (
            item_id text primary key,
            name text not null,
            low_stock boolean not null,
            processed_at timestamptz not null default now()
          );`,
  },
];
