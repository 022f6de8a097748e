import { PluginError } from './errors.js';
import type { AnyPlugin } from './plugin.js';

/**
 * Orders plugins so each comes after its dependencies, keeping the given order otherwise.
 * A duplicate name, a missing dependency or a cycle fails with the names involved.
 */
export function orderPlugins<P extends Pick<AnyPlugin, 'name' | 'dependencies'>>(plugins: readonly P[]): P[] {
  const byName = new Map<string, P>();
  for (const plugin of plugins) {
    if (byName.has(plugin.name)) throw new PluginError(`Plugin "${plugin.name}" is registered twice`);
    byName.set(plugin.name, plugin);
  }
  for (const plugin of plugins) {
    for (const dependency of plugin.dependencies ?? []) {
      if (!byName.has(dependency)) {
        throw new PluginError(`Plugin "${plugin.name}" depends on "${dependency}", which is not registered`);
      }
    }
  }

  const ordered: P[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (plugin: P): void => {
    if (done.has(plugin.name)) return;
    const loopStart = visiting.indexOf(plugin.name);
    if (loopStart !== -1) {
      const cycle = [...visiting.slice(loopStart), plugin.name].join(' → ');
      throw new PluginError(`Circular plugin dependency: ${cycle}`);
    }
    visiting.push(plugin.name);
    for (const dependency of plugin.dependencies ?? []) visit(byName.get(dependency) as P);
    visiting.pop();
    done.add(plugin.name);
    ordered.push(plugin);
  };
  for (const plugin of plugins) visit(plugin);
  return ordered;
}
