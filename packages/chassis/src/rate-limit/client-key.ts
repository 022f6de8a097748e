import { createHash } from 'node:crypto';
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';

/** Who a request is counted against (`rateLimit.key`). */
export type ClientKeyMode = 'ip' | 'subject' | 'header';

/** Longer subjects are hashed, so a store entry stays small whatever a token carries. */
const MAX_SUBJECT_LENGTH = 256;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The client address; IPv6 clients are grouped by /64, the block a client usually owns. */
function ipKey(request: FastifyRequest): string {
  // `ip` is undefined when the socket is already gone; such a request is counted as one client.
  const ip: string | undefined = request.ip;
  return `ip:${ip ? normalizeIP(ip) : 'unknown'}`;
}

/**
 * The function that names the client of a request, or undefined for `ip`: the package's own
 * default then runs without an extra await per request. Mixed keys carry their kind (`ip:`, `key:`,
 * `sub:`) so an address can never count against a header value that happens to spell it.
 */
export function clientKeyGenerator(
  mode: ClientKeyMode,
  header: string,
): ((request: FastifyRequest) => string) | undefined {
  if (mode === 'header') {
    const name = header.toLowerCase();
    return (request) => {
      const raw = request.headers[name];
      const value = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim();
      // Hashed: API keys are secrets and must not sit in the store (possibly a shared one) as is;
      // it also bounds the entry size whatever the client sends.
      return value === '' ? ipKey(request) : `key:${sha256(value)}`;
    };
  }
  if (mode === 'subject') {
    return (request) => {
      // Set by an authentication plugin when present; read by shape, not by import.
      const subject = (request as { principal?: { subject?: unknown } | null }).principal?.subject;
      if (typeof subject !== 'string' || subject === '') return ipKey(request);
      return subject.length > MAX_SUBJECT_LENGTH ? `sub:#${sha256(subject)}` : `sub:${subject}`;
    };
  }
  return undefined;
}
