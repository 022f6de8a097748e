/**
 * The service's own configuration keys, next to the chassis' ones (`http.*`, `messaging.*`, ...). A
 * convict schema: every key has a doc, a format, a default and an environment variable; `keelson
 * config explain` lists them with the origin of every value.
 */
export const config = {
  items: {
    lowStockThreshold: {
      doc: 'Quantity below which a new item is reported as low on stock',
      format: 'nat',
      default: 5,
      env: 'ITEMS_LOW_STOCK_THRESHOLD',
    },
  },
} as const;
