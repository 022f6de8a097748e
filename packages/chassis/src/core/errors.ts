/** A plugin set that cannot be assembled: a missing or circular dependency, a duplicate name. */
export class PluginError extends Error {
  override readonly name = 'PluginError';
}
