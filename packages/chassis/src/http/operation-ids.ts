import type { OpenAPIV3_1 } from 'openapi-types';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const words = (text: string) => text.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');

/**
 * `getOrdersByIdItems` for `GET /orders/{id}/items`: the method, then each path segment in
 * PascalCase, a parameter as `By<Name>`; `getRoot` for `/`.
 */
export function deriveOperationId(method: string, path: string): string {
  const parts = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      const param = /^\{(.*)\}$/.exec(segment);
      if (param)
        return `By${
          words(param[1] ?? '')
            .map(capitalize)
            .join('') || 'Any'
        }`;
      return words(segment).map(capitalize).join('');
    });
  return `${method.toLowerCase()}${parts.join('') || 'Root'}`;
}

/**
 * Gives every operation of the document an operationId that is unique and the same on every build
 * of the same routes: the route's own (`schema.operationId`) when it has one (prefixed by the
 * method on a route of several methods), otherwise derived from the method and the path. A derived
 * id that is taken gets the first free suffix 2, 3, … in the order routes were added.
 */
export function assignOperationIds(paths: OpenAPIV3_1.PathsObject): void {
  type Item = Partial<Record<string, { operationId?: string }>>;
  const operations: { item: Item; method: (typeof METHODS)[number]; path: string }[] = [];
  const seen = new Set<object>();
  const shared = new Set<object>();
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!pathItem) continue;
    const item = pathItem as Item;
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      // fastify-swagger gives every method of a multi-method route the same object.
      if (seen.has(operation)) shared.add(operation);
      seen.add(operation);
      operations.push({ item, method, path });
    }
  }
  const taken = new Set<string>();
  const derived: typeof operations = [];
  for (const entry of operations) {
    const source = entry.item[entry.method] as object;
    const operation: { operationId?: string } = { ...source };
    const own = operation.operationId;
    entry.item[entry.method] = operation;
    if (own === undefined) {
      derived.push(entry);
      continue;
    }
    operation.operationId = shared.has(source) ? `${entry.method}${capitalize(own)}` : own;
    taken.add(operation.operationId);
  }
  for (const { item, method, path } of derived) {
    const base = deriveOperationId(method, path);
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
    taken.add(id);
    (item[method] as { operationId?: string }).operationId = id;
  }
}
