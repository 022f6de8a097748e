/** PostgreSQL's identifier limit (NAMEDATALEN - 1): a longer LISTEN name is truncated, pg_notify refuses it. */
const MAX_CHANNEL_BYTES = 63;

/**
 * Checks a LISTEN/NOTIFY channel name. Both adapters quote it, so it is case-sensitive and matches
 * `pg_notify('<channel>', …)` exactly, whatever characters it holds.
 */
export function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel === '') throw new TypeError('A channel name is required');
  if (channel.includes('\0')) throw new TypeError('A channel name cannot contain NUL');
  if (Buffer.byteLength(channel) > MAX_CHANNEL_BYTES)
    throw new TypeError(`Channel name "${channel}" is longer than ${MAX_CHANNEL_BYTES} bytes`);
}

/** `"name"`, with inner quotes doubled: safe to put into SQL as an identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
