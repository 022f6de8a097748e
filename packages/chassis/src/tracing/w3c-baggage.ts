import {
  type Baggage,
  type BaggageEntry,
  baggageEntryMetadataFromString,
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

const BAGGAGE = 'baggage';
// W3C Baggage limits: at most 64 list-members and 8192 bytes in total.
const MAX_MEMBERS = 64;
const MAX_BYTES = 8192;
// key = RFC 7230 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// value = *baggage-octet, percent-encoded UTF-8.
const VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/**
 * W3C Baggage. Extract keeps the valid members and skips invalid ones (an undecodable value, a
 * bad key); members beyond 64 or a header beyond 8192 bytes are not read. Inject writes members
 * until a limit would be passed.
 */
export class W3CBaggagePropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const baggage = propagation.getBaggage(ctx);
    if (!baggage) return;
    let header = '';
    let count = 0;
    for (const [key, entry] of baggage.getAllEntries()) {
      if (!TOKEN.test(key) || count === MAX_MEMBERS) continue;
      const metadata = entry.metadata?.toString();
      const member = `${key}=${encodeURIComponent(entry.value)}${metadata ? `;${metadata}` : ''}`;
      const next = header === '' ? member : `${header},${member}`;
      if (Buffer.byteLength(next) > MAX_BYTES) break;
      header = next;
      count++;
    }
    if (header) setter.set(carrier, BAGGAGE, header);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, BAGGAGE);
    const header = Array.isArray(raw) ? raw.join(',') : raw;
    if (typeof header !== 'string' || header === '' || header.length > MAX_BYTES) return ctx;
    const entries: Record<string, BaggageEntry> = {};
    let count = 0;
    for (const member of header.split(',')) {
      if (count === MAX_MEMBERS) break;
      const entry = parseMember(member);
      if (!entry) continue;
      entries[entry[0]] = entry[1];
      count++;
    }
    if (count === 0) return ctx;
    const existing: Baggage | undefined = propagation.getBaggage(ctx);
    const merged = existing
      ? Object.entries(entries).reduce((b, [k, e]) => b.setEntry(k, e), existing)
      : propagation.createBaggage(entries);
    return propagation.setBaggage(ctx, merged);
  }

  fields(): string[] {
    return [BAGGAGE];
  }
}

function parseMember(member: string): [string, BaggageEntry] | undefined {
  const semicolon = member.indexOf(';');
  const pair = semicolon === -1 ? member : member.slice(0, semicolon);
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const key = pair.slice(0, eq).trim();
  const encoded = pair.slice(eq + 1).trim();
  if (!TOKEN.test(key) || !VALUE.test(encoded)) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  const properties = semicolon === -1 ? '' : member.slice(semicolon + 1).trim();
  return [key, properties ? { value, metadata: baggageEntryMetadataFromString(properties) } : { value }];
}
