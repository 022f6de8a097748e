import pluralize from 'pluralize';
import validateName from 'validate-npm-package-name';
import { UsageError } from '../cli-output.js';

/** The forms of a new service's name that templates use. */
export interface ServiceName {
  /** As given: the npm package name, e.g. `@acme/order-service` or `order-service`. */
  packageName: string;
  /** Without the scope: the service name in logs, metrics and the registry, e.g. `order-service`. */
  kebab: string;
  /** `OrderService`. */
  pascal: string;
  /** `orderService`. */
  camel: string;
  /** `order_service`. */
  snake: string;
  /** The kebab name with its last word in the singular, for one of a resource: `orders` → `order`. */
  singular: string;
}

/** The placeholders of a name that templates and generators share. */
export function namePlaceholders(name: ServiceName): Record<string, string> {
  return {
    __name__: name.kebab,
    __package__: name.packageName,
    __Name__: name.pascal,
    __nameCamel__: name.camel,
    __name_snake__: name.snake,
    __NAME_CONSTANT__: name.snake.toUpperCase(),
    __nameSingular__: name.singular,
  };
}

/** The name's forms; throws an error that says every rule the name breaks. */
export function parseServiceName(name: string): ServiceName {
  const problems: string[] = [];
  const result = validateName(name);
  if (!result.validForNewPackages) problems.push(...(result.errors ?? []), ...(result.warnings ?? []));
  const kebab = name.replace(/^@[^/]+\//, '');
  // The chassis' own rule for service names, and a letter first so that identifiers can be derived.
  if (!/^[a-z][a-z0-9._-]{0,62}$/.test(kebab))
    problems.push(
      'the name (without a scope) must start with a letter and hold only a-z, 0-9, ".", "_", "-", at most 63',
    );
  if (problems.length > 0)
    throw new UsageError(`invalid service name "${name}": ${[...new Set(problems)].join('; ')}`);
  const words = kebab.split(/[^a-z0-9]+/).filter(Boolean);
  const pascal = words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
  return {
    packageName: name,
    kebab,
    pascal,
    camel: pascal.charAt(0).toLowerCase() + pascal.slice(1),
    snake: words.join('_'),
    singular: kebab.replace(/[a-z]+$/, (last) => pluralize.singular(last)),
  };
}
