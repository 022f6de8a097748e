import type { Principal } from './principal.js';

interface Entry {
  principal: Principal;
  /** Epoch ms until which the verification stands. */
  until: number;
}

/**
 * Verified tokens by their exact text. A client sends the same token until it expires, and the
 * signature check through WebCrypto costs far more than the rest of a request; the same text
 * verified with the same keys gives the same answer, so only the time checks need repeating.
 * An entry lasts until the token expires, and no longer than the key set is cached, so a key
 * withdrawn from the set stops working as soon as it would without this cache. Oldest out first.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #maxAgeMs: number;
  readonly #toleranceMs: number;

  constructor(options: { max: number; maxAgeMs: number; clockToleranceSeconds: number }) {
    this.#max = options.max;
    this.#maxAgeMs = options.maxAgeMs;
    this.#toleranceMs = options.clockToleranceSeconds * 1000;
  }

  get(token: string): Principal | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.principal;
    this.#entries.delete(token);
    return undefined;
  }

  set(token: string, principal: Principal): void {
    if (this.#max === 0) return;
    const exp = principal.claims.exp;
    const now = Date.now();
    const until = Math.min(exp === undefined ? now : exp * 1000 + this.#toleranceMs, now + this.#maxAgeMs);
    if (until <= now) return;
    if (this.#entries.size >= this.#max && !this.#entries.has(token)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, { principal, until });
  }
}
