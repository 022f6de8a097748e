import { ProblemError, type Service } from '@keelson/chassis';
import type { ItemsStore, NewItem } from '../store/items-store.js';

/** Page sizes of `GET /items`, from the service's configuration. */
export interface Paging {
  defaultLimit: number;
  maxLimit: number;
}

// JSON schemas: fastify validates requests against them (a bad request gets a 400 problem+json
// listing every failing field) and serializes responses with them; with their summaries they make
// the OpenAPI document served at /openapi.json and /docs.
const item = {
  type: 'object',
  required: ['id', 'name', 'quantity', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    quantity: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** The RFC 9457 problem every error is answered with (application/problem+json). */
const problem = {
  type: 'object',
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
  },
} as const;

const createItem = {
  summary: 'Creates an item',
  tags: ['items'],
  body: {
    type: 'object',
    required: ['name', 'quantity'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      quantity: { type: 'integer', minimum: 0 },
    },
  },
  response: { 201: item, 400: problem },
} as const;

const readItem = {
  summary: 'Reads an item',
  tags: ['items'],
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', format: 'uuid' } },
  },
  response: { 200: item, 400: problem, 404: problem },
} as const;

const listItems = (paging: Paging) =>
  ({
    summary: 'Lists items, oldest first, a page at a time',
    tags: ['items'],
    querystring: {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: paging.maxLimit, default: paging.defaultLimit },
        offset: { type: 'integer', minimum: 0, default: 0 },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items', 'total', 'limit', 'offset'],
        properties: {
          items: { type: 'array', items: item },
          total: { type: 'integer', description: 'Items in all pages' },
          limit: { type: 'integer' },
          offset: { type: 'integer' },
        },
      },
      400: problem,
    },
  }) as const;

/** The items resource: create one, read one, list them a page at a time. */
export function registerItemRoutes(http: Service['http'], store: ItemsStore, paging: Paging): void {
  http.post<{ Body: NewItem }>('/items', { schema: createItem }, async (request, reply) => {
    const created = await store.create(request.body);
    return reply.code(201).header('location', `/items/${created.id}`).send(created);
  });

  http.get<{ Params: { id: string } }>('/items/:id', { schema: readItem }, async (request) => {
    const found = await store.get(request.params.id);
    if (!found) throw new ProblemError({ status: 404, detail: `No item with id ${request.params.id}` });
    return found;
  });

  http.get<{ Querystring: { limit: number; offset: number } }>(
    '/items',
    { schema: listItems(paging) },
    async (request) => store.list(request.query),
  );
}
