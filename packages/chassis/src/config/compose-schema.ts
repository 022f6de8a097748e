import type { ConfigLeaf, ConfigSchema } from './schema-types.js';

/** A schema fragment and who contributed it (a plugin name, or `service`). */
export interface SchemaFragment {
  owner: string;
  schema: ConfigSchema;
}

/** A leaf of the composed schema with its dotted key, its owner and its derived env/flag names. */
export interface ComposedLeaf {
  key: string;
  owner: string;
  leaf: ConfigLeaf & { env: string; arg: string };
}

export interface ComposedSchema {
  /** The convict schema: every leaf has its `env` and `arg` filled in. */
  schema: ConfigSchema;
  leaves: ComposedLeaf[];
}

export function isLeaf(node: ConfigLeaf | ConfigSchema): node is ConfigLeaf {
  return Object.hasOwn(node, 'default');
}

/** `http.bodyLimit` → `HTTP_BODY_LIMIT`. */
export function envNameFor(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[.-]/g, '_')
    .toUpperCase();
}

/**
 * Merges the fragments of every plugin and of the service into one schema. A key defined by two
 * owners is a programming error and fails with both names, as does an env variable claimed twice.
 */
export function composeSchema(fragments: readonly SchemaFragment[]): ComposedSchema {
  const schema: ConfigSchema = {};
  const leaves: ComposedLeaf[] = [];
  const owners = new Map<string, string>();
  const envOwners = new Map<string, string>();

  const visit = (node: ConfigSchema, target: ConfigSchema, path: string[], owner: string): void => {
    for (const [name, child] of Object.entries(node)) {
      const key = [...path, name].join('.');
      if (isLeaf(child)) {
        const previous = owners.get(key);
        if (previous !== undefined || (target[name] !== undefined && !isLeaf(target[name]))) {
          throw new Error(
            `Config key "${key}" is defined by both "${previous ?? 'a nested schema'}" and "${owner}"`,
          );
        }
        if (typeof child.doc !== 'string' || child.doc.trim() === '') {
          throw new Error(`Config key "${key}" (from "${owner}") has no doc: every key must be documented`);
        }
        const leaf = { ...child, env: child.env ?? envNameFor(key), arg: child.arg ?? key };
        const envOwner = envOwners.get(leaf.env);
        if (envOwner !== undefined) {
          throw new Error(`Environment variable ${leaf.env} is claimed by both "${envOwner}" and "${key}"`);
        }
        envOwners.set(leaf.env, key);
        owners.set(key, owner);
        target[name] = leaf;
        leaves.push({ key, owner, leaf });
      } else {
        const existing = target[name];
        if (existing !== undefined && isLeaf(existing)) {
          throw new Error(`Config key "${key}" is defined by both "${owners.get(key)}" and "${owner}"`);
        }
        const next = (existing as ConfigSchema | undefined) ?? {};
        target[name] = next;
        visit(child, next, [...path, name], owner);
      }
    }
  };

  for (const fragment of fragments) visit(fragment.schema, schema, [], fragment.owner);
  return { schema, leaves };
}
