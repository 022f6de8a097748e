import { BlockList, isIP } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4. */
export function unmapIPv4(address: string): string {
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}

function parseEntry(
  entry: unknown,
): { address: string; family: 'ipv4' | 'ipv6'; prefix?: number } | undefined {
  if (typeof entry !== 'string') return undefined;
  const [rawAddress = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const address = unmapIPv4(rawAddress);
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= (version === 4 ? 32 : 128) ? { address, family, prefix } : undefined;
}

/** Whether an allow-list entry is an IP address or a CIDR range. */
export function checkAllowListEntry(entry: unknown): boolean {
  return parseEntry(entry) !== undefined;
}

/** A matcher for client addresses against IPs and CIDR ranges; undefined for an empty list. */
export function createAllowList(
  entries: readonly string[],
): ((address: string | undefined) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (!parsed) throw new TypeError(`Not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    if (!address) return false;
    const ip = unmapIPv4(address);
    const version = isIP(ip);
    return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  };
}
