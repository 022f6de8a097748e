import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHeadersHook } from '../resilience/index.js';
import type { Principal } from './principal.js';

/**
 * Carries the verified principal of the request being handled through its async work, so calls
 * through `svc.clients` made for that request send its token on. Entered once, in the auth hook:
 * fastify runs body parsing in the request's async context, so the handler still sees it.
 */
export class TokenForwarding {
  readonly #storage = new AsyncLocalStorage<Principal>();
  readonly #clients: ReadonlySet<string> | undefined;

  constructor(clients: readonly string[]) {
    this.#clients = clients.length > 0 ? new Set(clients) : undefined;
  }

  /** Runs the rest of the request's hooks with the principal as the current one. */
  enter(principal: Principal, next: () => void): void {
    this.#storage.run(principal, next);
  }

  /** The clients' header hook: the caller's own Authorization header, if any, wins. */
  readonly addHeaders: RequestHeadersHook = (headers, call) => {
    const principal = this.#storage.getStore();
    if (!principal) return;
    if (this.#clients && !this.#clients.has(call.client)) return;
    // Work a handler started keeps its context after the response; an expired token stays home.
    const exp = principal.claims.exp;
    if (exp !== undefined && exp * 1000 <= Date.now()) return;
    for (const name in headers) if (name.toLowerCase() === 'authorization') return;
    headers.authorization = `Bearer ${principal.token}`;
  };
}
