import type { TraceState } from '@opentelemetry/api';

// W3C Trace Context Level 2, §3.3.1: at most 32 list-members, keys and values of at most 256
// characters; §3.3.1.5: at least 512 characters of the combined header are passed on, and above
// that members longer than 128 characters go first.
const MAX_MEMBERS = 32;
const MAX_KEY = 256;
const MAX_VALUE = 256;
const MAX_TRACESTATE = 512;
const LONG_MEMBER = 128;

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;

// key = ( lcalpha / DIGIT ) 0*255 ( keychar ); keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@".
// One lookup per character instead of a regular expression: no backtracking, no match objects.
const KEY_FIRST = new Uint8Array(128);
const KEY_CHAR = new Uint8Array(128);
for (let c = 0x61; c <= 0x7a; c++) KEY_FIRST[c] = KEY_CHAR[c] = 1;
for (let c = 0x30; c <= 0x39; c++) KEY_FIRST[c] = KEY_CHAR[c] = 1;
for (const c of '_-*/@') KEY_CHAR[c.charCodeAt(0)] = 1;

/** Index of the `=` that ends a valid key starting at `start`, or -1. */
function keyEnd(text: string, start: number, end: number): number {
  const first = text.charCodeAt(start);
  if (first >= 128 || KEY_FIRST[first] === 0) return -1;
  const limit = Math.min(end, start + MAX_KEY + 1);
  for (let i = start + 1; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === EQUALS) return i;
    if (c >= 128 || KEY_CHAR[c] === 0) return -1;
  }
  return -1;
}

/** value = 0*255( chr ) nblk-chr: printable ASCII without "," and "=", not ending in a space. */
function isValue(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > MAX_VALUE || text.charCodeAt(end - 1) === SPACE) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < SPACE || c > 0x7e || c === COMMA || c === EQUALS) return false;
  }
  return true;
}

function isMember(key: string, value: string): boolean {
  return keyEnd(`${key}=`, 0, key.length + 1) === key.length && isValue(value, 0, value.length);
}

/** An immutable W3C `tracestate`: list-members in order, the most recently updated first. */
export class W3CTraceState implements TraceState {
  readonly #members: ReadonlyMap<string, string>;
  #text: string | undefined;

  constructor(members: ReadonlyMap<string, string> = new Map()) {
    this.#members = members;
  }

  /** Puts `key` first with `value`; the right-most member goes when that would make 33 (§3.3.1). */
  set(key: string, value: string): W3CTraceState {
    if (!isMember(key, value)) return this;
    const members = new Map([[key, value]]);
    for (const [k, v] of this.#members) if (k !== key && members.size < MAX_MEMBERS) members.set(k, v);
    return new W3CTraceState(members);
  }

  unset(key: string): W3CTraceState {
    if (!this.#members.has(key)) return this;
    const members = new Map(this.#members);
    members.delete(key);
    return new W3CTraceState(members);
  }

  get(key: string): string | undefined {
    return this.#members.get(key);
  }

  serialize(): string {
    // Immutable, so the header is built once however many calls pass it on.
    if (this.#text === undefined) {
      let text = '';
      for (const [k, v] of this.#members) text += text === '' ? `${k}=${v}` : `,${k}=${v}`;
      this.#text = text;
    }
    return this.#text;
  }
}

/**
 * Parses a combined `tracestate` header (several header fields joined by commas). Returns
 * undefined when it holds no member or is invalid: a member that breaks the grammar or a 33rd
 * member discards the whole header, as the specification allows, so that a corrupt state does not
 * travel on. A repeated key keeps its left-most (most recent) entry and drops the later ones, which
 * Level 2 allows, so one vendor's mistake does not delete other vendors' entries. Empty members
 * and the whitespace around members are dropped. Above 512 characters, members longer than 128
 * characters go first, then members from the end (§3.3.1.5).
 */
export function parseTraceState(header: string): W3CTraceState | undefined {
  let members: Map<string, string> | undefined;
  let count = 0;
  let length = -1;
  const n = header.length;
  for (let pos = 0; pos <= n; ) {
    let end = header.indexOf(',', pos);
    if (end === -1) end = n;
    let start = pos;
    pos = end + 1;
    while (start < end && isOws(header.charCodeAt(start))) start++;
    while (end > start && isOws(header.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    if (++count > MAX_MEMBERS) return undefined;
    const eq = keyEnd(header, start, end);
    if (eq === -1 || !isValue(header, eq + 1, end)) return undefined;
    const key = header.slice(start, eq);
    members ??= new Map();
    if (members.has(key)) continue;
    members.set(key, header.slice(eq + 1, end));
    length += end - start + 1;
  }
  if (members === undefined) return undefined;
  if (length > MAX_TRACESTATE) truncate(members, length);
  return new W3CTraceState(members);
}

/** Optional whitespace around header values and list-members: space or horizontal tab. */
export function isOws(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Removes whole members until the header fits in 512 characters: long ones first, then from the end. */
function truncate(members: Map<string, string>, length: number): void {
  const memberLength = (k: string) => k.length + 1 + (members.get(k) as string).length;
  const keys = [...members.keys()].reverse();
  for (const k of keys) {
    if (length <= MAX_TRACESTATE) return;
    const size = memberLength(k);
    if (size <= LONG_MEMBER) continue;
    members.delete(k);
    length -= size + 1;
  }
  for (const k of keys) {
    if (length <= MAX_TRACESTATE) return;
    if (!members.has(k)) continue;
    length -= memberLength(k) + 1;
    members.delete(k);
  }
}
