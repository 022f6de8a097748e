import type { ConfigEntry } from '../config/index.js';

/** Shorter values are not replaced: they would mangle unrelated text, and are no secret anyway. */
const MIN_SECRET_LENGTH = 4;

/**
 * The string values of every config key marked `sensitive`, as they could appear in a log line: the
 * value itself, its JSON-escaped form, and the password inside a URL-shaped value. Numbers are left
 * alone: replacing digits inside JSON numbers would corrupt the line. The logger replaces
 * them wherever they occur, so a secret is never written whatever object it was logged in.
 */
export function sensitiveValues(config: {
  explain(): readonly ConfigEntry[];
  get(path: string): unknown;
}): string[] {
  const found = new Set<string>();
  const add = (text: string) => {
    if (text.length < MIN_SECRET_LENGTH) return;
    found.add(text);
    const escaped = JSON.stringify(text).slice(1, -1);
    if (escaped !== text) found.add(escaped);
  };
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      add(value);
      const password = urlPassword(value);
      if (password) add(password);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  for (const entry of config.explain()) if (entry.sensitive) visit(config.get(entry.key));
  // Longest first, so a secret that contains another is replaced whole.
  return [...found].sort((a, b) => b.length - a.length);
}

function urlPassword(value: string): string | undefined {
  if (!value.includes('://') || !value.includes('@')) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
