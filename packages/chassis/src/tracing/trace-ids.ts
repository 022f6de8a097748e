import { randomFillSync } from 'node:crypto';

// Ids come from a pool of random bytes refilled 4 KiB at a time: one syscall per ~170 spans.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** A new W3C trace id: 16 random bytes, never all zero. */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === '00000000000000000000000000000000' ? newTraceId() : id;
}

/** A new W3C span (parent) id: 8 random bytes, never all zero. */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === '0000000000000000' ? newSpanId() : id;
}

/**
 * The `random` trace flag (W3C Trace Context Level 2, bit 1): set on trace ids made here, whose
 * bytes are all random, and kept on a trace continued from a caller that set it.
 */
export const RANDOM_TRACE_ID_FLAG = 0x02;

/** The id generator for the OpenTelemetry SDK, so that its trace ids are random as well. */
export const randomIdGenerator = { generateTraceId: newTraceId, generateSpanId: newSpanId };
