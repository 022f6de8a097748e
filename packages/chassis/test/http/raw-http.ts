import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';

/** One HTTP/1.1 response as it arrived on the wire; header names lowercased. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  /** Every response read from the connection, in order. */
  responses: RawResponse[];
  /** ms from writing the request to the first byte of the answer; undefined when nothing arrived. */
  firstByteMs: number | undefined;
  /** ms from writing the request to the connection closing; undefined when `waitMs` ran out first. */
  closedMs: number | undefined;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A response's problem+json body, checked to carry the request id of its `x-request-id` header. */
export function problemOf(response: RawResponse | undefined): Record<string, unknown> {
  expect(response).toBeDefined();
  const { headers, body } = response as RawResponse;
  expect(headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
  const problem = JSON.parse(body) as Record<string, unknown>;
  expect(headers['x-request-id']).toMatch(UUID);
  expect(problem.requestId).toBe(headers['x-request-id']);
  return problem;
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `data` on a new loopback connection and reads until the server closes it, or until
 * `waitMs` has passed (then the client closes it). `close` ends the client's side after writing, once
 * `when` (if given) has settled: `'end'` half-closes (a client that stops mid-request), `'reset'`
 * resets the connection, `'destroy'` closes it (a client that gives up).
 */
export async function exchange(
  port: number,
  data: string | Buffer,
  options: { waitMs?: number; when?: Promise<unknown>; close?: 'end' | 'reset' | 'destroy' } = {},
): Promise<Exchange> {
  const socket = await openSocket(port);
  const started = performance.now();
  const chunks: Buffer[] = [];
  let firstByteMs: number | undefined;
  let closedMs: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - started;
      chunks.push(chunk);
    });
    // A reset after the server's answer is still an answer: the bytes read so far are kept.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (timer !== undefined) closedMs = performance.now() - started;
      resolve();
    });
    timer = setTimeout(() => {
      timer = undefined;
      socket.destroy();
    }, options.waitMs ?? 5000);
    socket.write(data);
    void Promise.resolve(options.when).then(() => {
      if (options.close === 'end') socket.end();
      if (options.close === 'reset') socket.resetAndDestroy();
      if (options.close === 'destroy') socket.destroy();
    });
  });
  clearTimeout(timer);
  return { responses: parseResponses(Buffer.concat(chunks).toString('latin1')), firstByteMs, closedMs };
}

/** Splits a connection's bytes into responses (each framed by content-length, else to the end). */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new Error(`incomplete response head: ${JSON.stringify(rest)}`);
    const [statusLine = '', ...headerLines] = rest.slice(0, headEnd).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
    if (!status) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    const bodyEnd = length === undefined ? rest.length : bodyStart + length;
    responses.push({ status: Number(status[1]), headers, body: rest.slice(bodyStart, bodyEnd) });
    rest = rest.slice(bodyEnd);
  }
  return responses;
}

/**
 * The sum of the samples of `name` in a Prometheus text exposition whose labels include `labels`
 * (undefined when none does).
 */
export function total(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let sum: number | undefined;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}
