import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../support/child-service.js';

interface Tally {
  ok: number;
  /** Responses that told the client to close the connection. */
  closing: number;
  /** A request written to an open connection that was reset or closed without an answer. */
  resets: string[];
  /** Any other failure: a status other than 200, an unexpected error. */
  failures: string[];
  /** New connections refused once the listener closed: those requests never reached the server. */
  refused: number;
}

type Outcome = { status: number; close: boolean } | { error: NodeJS.ErrnoException; reused: boolean };

function get(url: URL, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, close: res.headers.connection === 'close' }),
      );
      res.on('error', (error) => resolve({ error, reused: req.reusedSocket }));
    });
    req.on('error', (error) => resolve({ error, reused: req.reusedSocket }));
    req.end();
  });
}

/**
 * 50 keep-alive clients at full speed; SIGTERM mid-run. Each client stops when the server refuses a
 * new connection (the listener has closed: the instance is gone) and every request is classified.
 */
async function shutdownUnderLoad(route: string, env: Record<string, string>): Promise<Tally> {
  const svc = await spawnFixture('slow-service.ts', env);
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const tally: Tally = { ok: 0, closing: 0, resets: [], failures: [], refused: 0 };
  const url = new URL(route, svc.url);
  let signalled = false;
  const client = async () => {
    // Bounded: at most 20000 requests per client, and each stops once refused.
    for (let i = 0; i < 20_000; i++) {
      const outcome = await get(url, agent);
      if ('error' in outcome) {
        const code = outcome.error.code ?? outcome.error.message;
        if (code === 'ECONNREFUSED' && signalled) {
          tally.refused++;
          return;
        }
        if (code === 'ECONNRESET' || code === 'EPIPE')
          tally.resets.push(`${code} on a ${outcome.reused ? 'reused' : 'new'} connection`);
        else tally.failures.push(String(code));
        if (tally.resets.length + tally.failures.length > 200) return;
        continue;
      }
      if (outcome.status === 200) tally.ok++;
      else tally.failures.push(`status ${outcome.status}`);
      if (outcome.close) tally.closing++;
    }
  };
  const clients = Array.from({ length: 50 }, client);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  signalled = true;
  svc.child.kill('SIGTERM');
  await Promise.all(clients);
  agent.destroy();
  const { code } = await svc.exit;
  expect(code).toBe(0);
  expect(svc.lines.find((l) => l.msg === 'service stopped')).toMatchObject({ clean: true });
  return tally;
}

describe('graceful shutdown with kept-alive connections (child process, real SIGTERM)', () => {
  it.each([
    ['a fast route', '/fast', {}],
    ['a 50 ms route', '/slow', { SLOW_MS: '50' }],
    ['a fast route with a 2 s pre-stop delay', '/fast', { SHUTDOWN_PRE_STOP_DELAY_MS: '2000' }],
  ])('%s: 0 resets, 0 failures, and the clients were told to close', async (_name, route, env) => {
    const tally = await shutdownUnderLoad(route, env);
    expect(tally.resets).toEqual([]);
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(200);
    // Every client saw the drain: a response with connection: close, then the listener gone.
    expect(tally.closing).toBeGreaterThanOrEqual(50);
    expect(tally.refused).toBe(50);
  });
});
