/** Methods that RFC 9110 defines as idempotent: repeating them has the effect of sending once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Statuses that say "try again later": rate limited, bad gateway, unavailable, gateway timeout. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Connection failures where the request certainly never reached the server, so even a POST may
 * be sent again.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export function isIdempotentCall(
  method: string,
  headers: Record<string, string> | undefined,
  marked?: boolean,
): boolean {
  if (marked !== undefined) return marked;
  if (IDEMPOTENT_METHODS.has(method)) return true;
  if (!headers) return false;
  for (const name in headers) if (name.toLowerCase() === 'idempotency-key') return true;
  return false;
}

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

export function wasNotSent(code: string | undefined): boolean {
  return code !== undefined && NOT_SENT_CODES.has(code);
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) starts with a day name; Date.parse alone
  // would also take "-1" or "1.5" for dates.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
