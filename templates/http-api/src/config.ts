/**
 * The service's own configuration keys, next to the chassis' ones (`http.*`, `db.*`, ...). A convict
 * schema: every key has a doc, a format, a default and an environment variable; `keelson config
 * explain` lists them with the origin of every value.
 */
export const config = {
  items: {
    defaultPageSize: {
      doc: 'Items GET /items returns when the request gives no limit',
      format: 'nat',
      default: 20,
      env: 'ITEMS_DEFAULT_PAGE_SIZE',
    },
    maxPageSize: {
      doc: 'Most items GET /items returns in one page; a larger limit is refused with 400',
      format: 'nat',
      default: 100,
      env: 'ITEMS_MAX_PAGE_SIZE',
    },
  },
} as const;
