/** One place to send an attempt to, and where to report how it went. */
export interface Endpoint {
  /** Base URL of the instance, e.g. `http://10.0.0.7:3000`. */
  url: string;
  /** Called once the attempt finished: `ok` is false for connection errors, timeouts and 5xx. */
  release?(outcome: { ok: boolean }): void;
}

/**
 * Finds an instance of a downstream for each attempt, for clients without a fixed `baseUrl`. The
 * service registry plugs its discovery in here (`ctx.clients.setResolver(...)`), so
 * `ctx.clients.http('inventory')` reaches a live instance without more code.
 */
export interface EndpointResolver {
  resolve(client: string): Endpoint | Promise<Endpoint>;
}
