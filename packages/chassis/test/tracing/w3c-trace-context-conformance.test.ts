import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';

/**
 * W3C Trace Context conformance (Level 1 and Level 2), end to end over loopback HTTP.
 *
 * The test plays the caller and the next hop: it sends a request with the headers of a case to a
 * service built on the public API, whose handler calls a recording server through
 * `svc.clients.http('next')`; each case asserts the exact `traceparent` and `tracestate` that
 * server received. There is one test per case of the W3C test suite (w3c/trace-context,
 * test/test.py, at STRICT_LEVEL=2), named after it, followed by the Level 2 rules that suite
 * does not check. Every case runs twice: without an exporter and with the OpenTelemetry SDK.
 */

const TRACE = '12345678901234567890123456789012';
const PARENT = '1234567890123456';
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);
const tp = (flags = '01', version = '00', trace = TRACE, parent = PARENT) =>
  `${version}-${trace}-${parent}-${flags}`;

type Header = [name: string, value: string];

/** The trace context one call to the next hop carried. */
interface Propagated {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
  /** The `tracestate` received, or undefined when the header was not sent. */
  tracestate: string | undefined;
}

/** A server that records the raw headers of every request it gets: the next hop. */
async function startNextHop() {
  const received: string[][] = [];
  const server = http.createServer((request, response) => {
    received.push(request.rawHeaders);
    response.setHeader('content-type', 'application/json');
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take: () => received.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Reads the single `traceparent` and the `tracestate` of recorded raw headers, names in any case. */
function readTraceContext(rawHeaders: string[]): Propagated {
  const values = (name: string) =>
    rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]?.toLowerCase() === name);
  const traceparent = values('traceparent');
  expect(traceparent, 'exactly one traceparent header').toHaveLength(1);
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent[0] as string);
  expect(match, `a well-formed traceparent: ${traceparent[0]}`).not.toBeNull();
  const [, version, traceId, parentId, flags] = match as unknown as string[];
  const tracestate = values('tracestate');
  expect(tracestate.length, 'at most one tracestate header').toBeLessThanOrEqual(1);
  return { version, traceId, parentId, flags, tracestate: tracestate[0] } as Propagated;
}

describe.each([
  { mode: 'without an exporter', exporter: 'none', newTraceFlags: '02' },
  // The SDK samples every new trace at the default ratio of 1: sampled and random.
  { mode: 'with the OpenTelemetry SDK', exporter: 'console', newTraceFlags: '03' },
])('W3C Trace Context conformance $mode', ({ exporter, newTraceFlags }) => {
  let nextHop: Awaited<ReturnType<typeof startNextHop>>;
  let service: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    nextHop = await startNextHop();
    service = await startTestService({
      name: 'conformance',
      overrides: { tracing: { exporter } },
      clients: { next: { baseUrl: nextHop.url } },
      setup(svc) {
        svc.http.post('/test', async (request) => {
          const calls = Number((request.query as { calls?: string }).calls ?? 1);
          for (let i = 0; i < calls; i++) await svc.clients.http('next').post(`/callback/${i}`, {});
          return { calls };
        });
      },
    });
  });

  afterAll(async () => {
    await service?.service.stop();
    await nextHop?.close();
  });

  /** Sends the headers exactly as given (repeated names, any case) and returns what each call carried. */
  async function send(headers: Header[], calls = 1): Promise<Propagated[]> {
    const url = new URL(`${service.url}/test?calls=${calls}`);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: `${url.pathname}${url.search}`,
          headers: ['host', url.host, 'content-length', '0', ...headers.flat()],
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(200);
    const received = nextHop.take();
    expect(received).toHaveLength(calls);
    return received.map(readTraceContext);
  }

  async function sendOne(headers: Header[]): Promise<Propagated> {
    return (await send(headers))[0] as Propagated;
  }

  /** The caller's trace continues: same trace id, a new parent id, the given flags and tracestate. */
  async function expectContinued(headers: Header[], flags: string, tracestate?: string) {
    const out = await sendOne(headers);
    expect(out).toMatchObject({ version: '00', traceId: TRACE, flags, tracestate });
    expect([PARENT, ZERO_PARENT]).not.toContain(out.parentId);
  }

  /** A new trace starts: a fresh trace id, the flags of a new trace, no tracestate. */
  async function expectRestarted(headers: Header[]) {
    const out = await sendOne(headers);
    expect(out).toMatchObject({ version: '00', flags: newTraceFlags, tracestate: undefined });
    expect([
      TRACE,
      ZERO_TRACE,
      '12345678901234567890123456789011',
      '23456789012345678901234567890123',
    ]).not.toContain(out.traceId);
    expect(out.parentId).not.toBe(ZERO_PARENT);
  }

  describe('traceparent', () => {
    it('both_traceparent_and_tracestate_missing: a new trace starts', async () => {
      await expectRestarted([]);
    });

    it('traceparent_included_tracestate_missing: the trace continues with a new parent id', async () => {
      await expectContinued([['traceparent', tp('01')]], '01');
    });

    it('traceparent_duplicated: two traceparent headers restart the trace', async () => {
      await expectRestarted([
        ['traceparent', tp('01', '00', '12345678901234567890123456789011')],
        ['traceparent', tp('01')],
      ]);
    });

    it('traceparent_header_name: a misspelt header name is not read', async () => {
      await expectRestarted([['trace-parent', tp()]]);
      await expectRestarted([['trace.parent', tp()]]);
    });

    it('traceparent_header_name_valid_casing: the header name is case-insensitive', async () => {
      for (const name of ['TraceParent', 'TrAcEpArEnT', 'TRACEPARENT'])
        await expectContinued([[name, tp()]], '01');
    });

    it('traceparent_version_0x00: version 00 allows nothing after the flags', async () => {
      await expectRestarted([['traceparent', `${tp()}.`]]);
      await expectRestarted([['traceparent', `${tp()}-what-the-future-will-be-like`]]);
    });

    it('traceparent_version_0xcc: a future version is read for its first four fields and sent as 00', async () => {
      await expectContinued([['traceparent', tp('01', 'cc')]], '01');
      await expectContinued([['traceparent', `${tp('01', 'cc')}-what-the-future-will-be-like`]], '01');
      await expectRestarted([['traceparent', `${tp('01', 'cc')}.what-the-future-will-be-like`]]);
    });

    it('traceparent_version_0xff: version ff is invalid', async () => {
      await expectRestarted([['traceparent', tp('01', 'ff')]]);
    });

    it('traceparent_version_illegal_characters', async () => {
      await expectRestarted([['traceparent', tp('01', '.0')]]);
      await expectRestarted([['traceparent', tp('01', '0.')]]);
    });

    it('traceparent_version_too_long', async () => {
      await expectRestarted([['traceparent', tp('01', '000')]]);
      await expectRestarted([['traceparent', tp('01', '0000')]]);
    });

    it('traceparent_version_too_short', async () => {
      await expectRestarted([['traceparent', tp('01', '0')]]);
    });

    it('traceparent_trace_id_all_zero', async () => {
      await expectRestarted([['traceparent', tp('01', '00', ZERO_TRACE)]]);
    });

    it('traceparent_trace_id_illegal_characters', async () => {
      await expectRestarted([['traceparent', tp('01', '00', `.${TRACE.slice(1)}`)]]);
      await expectRestarted([['traceparent', tp('01', '00', `${TRACE.slice(0, 31)}.`)]]);
    });

    it('traceparent_trace_id_too_long', async () => {
      await expectRestarted([['traceparent', tp('01', '00', `${TRACE}3`)]]);
    });

    it('traceparent_trace_id_too_short', async () => {
      await expectRestarted([['traceparent', tp('01', '00', TRACE.slice(0, 31))]]);
    });

    it('traceparent_parent_id_all_zero', async () => {
      await expectRestarted([['traceparent', tp('01', '00', TRACE, ZERO_PARENT)]]);
    });

    it('traceparent_parent_id_illegal_characters', async () => {
      await expectRestarted([['traceparent', tp('01', '00', TRACE, `.${PARENT.slice(1)}`)]]);
      await expectRestarted([['traceparent', tp('01', '00', TRACE, `${PARENT.slice(0, 15)}.`)]]);
    });

    it('traceparent_parent_id_too_long', async () => {
      await expectRestarted([['traceparent', tp('01', '00', TRACE, `${PARENT}7`)]]);
    });

    it('traceparent_parent_id_too_short', async () => {
      await expectRestarted([['traceparent', tp('01', '00', TRACE, PARENT.slice(0, 15))]]);
    });

    it('traceparent_trace_flags_illegal_characters', async () => {
      await expectRestarted([['traceparent', tp('.0')]]);
      await expectRestarted([['traceparent', tp('0.')]]);
    });

    it('traceparent_trace_flags_too_long', async () => {
      await expectRestarted([['traceparent', tp('001')]]);
    });

    it('traceparent_trace_flags_too_short', async () => {
      await expectRestarted([['traceparent', tp('1')]]);
    });

    it('traceparent_ows_handling: spaces and tabs around the value are optional whitespace', async () => {
      for (const value of [` ${tp()}`, `\t${tp()}`, `${tp()} `, `${tp()}\t`, `\t ${tp()} \t`])
        await expectContinued([['traceparent', value]], '01');
    });
  });

  describe('tracestate', () => {
    const withParent = (...tracestate: Header[]): Header[] => [['traceparent', tp('00')], ...tracestate];

    it('tracestate_included_traceparent_missing: a tracestate without a traceparent is dropped', async () => {
      await expectRestarted([['tracestate', 'foo=1']]);
      await expectRestarted([['tracestate', 'foo=1,bar=2']]);
    });

    it('tracestate_included_traceparent_included: the tracestate is passed on unchanged', async () => {
      await expectContinued(withParent(['tracestate', 'foo=1,bar=2']), '00', 'foo=1,bar=2');
    });

    it('tracestate_header_name: a misspelt header name is not read', async () => {
      await expectContinued(withParent(['trace-state', 'foo=1']), '00', undefined);
      await expectContinued(withParent(['trace.state', 'foo=1']), '00', undefined);
    });

    it('tracestate_header_name_valid_casing: the header name is case-insensitive', async () => {
      for (const name of ['TraceState', 'TrAcEsTaTe', 'TRACESTATE'])
        await expectContinued(withParent([name, 'foo=1']), '00', 'foo=1');
    });

    it('tracestate_empty_header: empty header fields are accepted and not sent on', async () => {
      await expectContinued(withParent(['tracestate', '']), '00', undefined);
      await expectContinued(withParent(['tracestate', 'foo=1'], ['tracestate', '']), '00', 'foo=1');
      await expectContinued(withParent(['tracestate', ''], ['tracestate', 'foo=1']), '00', 'foo=1');
    });

    it('tracestate_multiple_headers_different_keys: header fields combine in order', async () => {
      await expectContinued(
        withParent(['tracestate', 'foo=1,bar=2'], ['tracestate', 'rojo=1,congo=2'], ['tracestate', 'baz=3']),
        '00',
        'foo=1,bar=2,rojo=1,congo=2,baz=3',
      );
    });

    it('tracestate_duplicated_keys: the trace state is kept, with one entry per key', async () => {
      await expectContinued(withParent(['tracestate', 'foo=1,foo=1']), '00', 'foo=1');
      await expectContinued(withParent(['tracestate', 'foo=1,foo=2']), '00', 'foo=1');
      await expectContinued(withParent(['tracestate', 'foo=1'], ['tracestate', 'foo=1']), '00', 'foo=1');
      await expectContinued(withParent(['tracestate', 'foo=1'], ['tracestate', 'foo=2']), '00', 'foo=1');
    });

    it('tracestate_all_allowed_characters: every legal key and value character travels', async () => {
      const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
      let value = '';
      for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
      await expectContinued(withParent(['tracestate', `${key}=${value}`]), '00', `${key}=${value}`);
      const tenantKey = `${key}@a-z0-9_-*/`;
      await expectContinued(
        withParent(['tracestate', `${tenantKey}=${value}`]),
        '00',
        `${tenantKey}=${value}`,
      );
    });

    it('tracestate_ows_handling: whitespace around members is dropped', async () => {
      for (const value of ['foo=1 \t , \t bar=2, \t baz=3', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3'])
        await expectContinued(withParent(['tracestate', value]), '00', 'foo=1,bar=2,baz=3');
      for (const value of [' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t'])
        await expectContinued(withParent(['tracestate', value]), '00', 'foo=1');
    });

    it('tracestate_key_illegal_characters: an invalid key drops the tracestate, not the trace', async () => {
      for (const value of ['foo =1', 'FOO=1', 'foo.bar=1'])
        await expectContinued(withParent(['tracestate', value]), '00', undefined);
    });

    it('tracestate_key_illegal_vendor_format: "@" is a key character after the first (Level 2)', async () => {
      for (const value of ['foo@=1,bar=2', 'foo@@bar=1,bar=2', 'foo@bar@baz=1,bar=2'])
        await expectContinued(withParent(['tracestate', value]), '00', value);
      await expectContinued(withParent(['tracestate', '@foo=1,bar=2']), '00', undefined);
    });

    it('tracestate_member_count_limit: 32 members travel, 33 drop the tracestate', async () => {
      const bars = Array.from({ length: 33 }, (_, i) => {
        const n = String(i + 1).padStart(2, '0');
        return `bar${n}=${n}`;
      });
      const fields = (list: string[]): Header[] =>
        [0, 10, 20, 30].map((from) => ['tracestate', list.slice(from, from + 10).join(',')]);
      await expectContinued(withParent(...fields(bars.slice(0, 32))), '00', bars.slice(0, 32).join(','));
      await expectContinued(withParent(...fields(bars)), '00', undefined);
    });

    it('tracestate_key_length_limit: keys of up to 256 characters, "@" anywhere (Level 2)', async () => {
      for (const key of [
        'z'.repeat(256),
        `${'t'.repeat(241)}@${'v'.repeat(14)}`,
        `${'t'.repeat(242)}@v`,
        `t@${'v'.repeat(15)}`,
      ])
        await expectContinued(
          withParent(['tracestate', 'foo=1'], ['tracestate', `${key}=1`]),
          '00',
          `foo=1,${key}=1`,
        );
      await expectContinued(
        withParent(['tracestate', 'foo=1'], ['tracestate', `${'z'.repeat(257)}=1`]),
        '00',
        undefined,
      );
    });

    it('tracestate_value_illegal_characters: an invalid value drops the tracestate', async () => {
      for (const value of ['foo=bar=baz', 'foo=,bar=3'])
        await expectContinued(withParent(['tracestate', value]), '00', undefined);
    });
  });

  describe('several calls from one request', () => {
    it('multiple_requests_with_valid_traceparent: each call continues the trace with its own parent id', async () => {
      const calls = await send([['traceparent', tp('01')]], 3);
      expect(calls.map((c) => [c.traceId, c.flags])).toEqual(Array(3).fill([TRACE, '01']));
      expect(new Set([PARENT, ...calls.map((c) => c.parentId)]).size).toBe(4);
    });

    it('multiple_requests_without_traceparent: the calls share one new trace, each with its own parent id', async () => {
      const calls = await send([], 3);
      expect(new Set(calls.map((c) => c.traceId)).size).toBe(1);
      expect(calls[0]?.traceId).not.toBe(ZERO_TRACE);
      expect(calls.map((c) => c.flags)).toEqual(Array(3).fill(newTraceFlags));
      expect(new Set(calls.map((c) => c.parentId)).size).toBe(3);
    });

    it('multiple_requests_with_illegal_traceparent: an invalid traceparent starts one new trace', async () => {
      const calls = await send([['traceparent', tp('01', '00', ZERO_TRACE)]], 3);
      expect(new Set(calls.map((c) => c.traceId)).size).toBe(1);
      expect(calls[0]?.traceId).not.toBe(ZERO_TRACE);
      expect(new Set(calls.map((c) => c.parentId)).size).toBe(3);
    });
  });

  describe('Level 2 rules beyond the W3C suite', () => {
    it('sets the random flag on a trace the chassis starts', async () => {
      const out = await sendOne([]);
      expect(Number.parseInt(out.flags, 16) & 0x02).toBe(0x02);
    });

    it('passes the sampled and random flags on as received and clears the reserved ones', async () => {
      for (const [sent, expected] of [
        ['00', '00'],
        ['01', '01'],
        ['02', '02'],
        ['03', '03'],
        ['ff', '03'],
        ['fd', '01'],
        ['fe', '02'],
      ] as const)
        await expectContinued([['traceparent', tp(sent)]], expected);
      await expectContinued([['traceparent', `${tp('03', 'cc')}-future`]], '03');
    });

    it('keeps other vendors entries when a key repeats, the left-most (most recent) entry winning', async () => {
      await expectContinued(
        [
          ['traceparent', tp('01')],
          ['tracestate', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'],
          ['tracestate', 'rojo=old,tenant@vendor=x'],
        ],
        '01',
        'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x',
      );
    });

    it('passes 512 characters on and truncates whole members above that, long ones first', async () => {
      const long = `long=${'x'.repeat(150)}`;
      const small = Array.from({ length: 24 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(16)}`);
      // 24 × 20 + 155 + 24 commas = 659: the long member goes, leaving 24 × 20 + 23 = 503.
      await expectContinued(
        [
          ['traceparent', tp('01')],
          ['tracestate', [small[0], long, ...small.slice(1)].join(',')],
        ],
        '01',
        small.join(','),
      );
      // 30 × 20 + 29 = 629: members go from the end until 503 (24 members) remain.
      const many = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(16)}`);
      await expectContinued(
        [
          ['traceparent', tp('01')],
          ['tracestate', many.join(',')],
        ],
        '01',
        many.slice(0, 24).join(','),
      );
    });
  });
});
