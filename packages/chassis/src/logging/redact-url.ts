/** The replacement for a credential's value in logged URLs. */
export const REDACTED = '[redacted]';

/** Always redacted, whatever the configured list says: the access-token plugin reads it from URLs. */
const ALWAYS = 'access_token';

/**
 * Builds a function that replaces the values of credential-carrying query parameters in a URL. A
 * name matches an entry when it equals it or ends with it as a separate word (`my_api_key`,
 * `X-Api-Key` match `api_key`/`key`; `monkey` does not match `key`), case-insensitively.
 */
export function queryRedactor(names: readonly string[]): (url: string) => string {
  const entries = new Set([ALWAYS, ...names.map(normalise)]);
  const isCredential = (name: string): boolean => {
    const words = normalise(name).split('_');
    for (let i = 0; i < words.length; i++) if (entries.has(words.slice(i).join('_'))) return true;
    return false;
  };
  return (url) => {
    const q = url.indexOf('?');
    if (q === -1) return url;
    let changed = false;
    const params = url
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const name = eq === -1 ? pair : pair.slice(0, eq);
        if (!isCredential(safeDecode(name))) return pair;
        changed = true;
        return `${name}=${REDACTED}`;
      });
    return changed ? `${url.slice(0, q)}?${params.join('&')}` : url;
  };
}

const normalise = (name: string): string => name.toLowerCase().replace(/[-.\s]+/g, '_');

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
