import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/any-service/', import.meta.url));

async function doctor(argv: string[], env: NodeJS.ProcessEnv) {
  let out = '';
  const began = performance.now();
  const code = await runCli(
    ['doctor', ...argv],
    { out: (t) => (out += t), err: (t) => (out += t) },
    { cwd: fixture, interactive: false, env: { NODE_ENV: 'test', ...env } },
  );
  return { code, out, ms: performance.now() - began };
}

describe('keelson doctor', () => {
  // A server that accepts every connection and never says a word: a broker, database or registry
  // that hangs. Doctor must fail each check within its bound, and close every socket it opened.
  const accepted = new Set<Socket>();
  let closed = 0;
  const silent = createServer((socket) => {
    accepted.add(socket);
    socket.resume(); // reads what the client says, answers nothing
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
  });
  let port = 0;
  beforeAll(async () => {
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    port = (silent.address() as { port: number }).port;
  });
  afterAll(() => {
    for (const socket of accepted) socket.destroy();
    silent.close();
  });

  it('fails every check whose server accepts and never answers, within its bound, and closes its sockets', async () => {
    const result = await doctor(['--timeout', '1000'], {
      DB_URL: `postgres://doctor@127.0.0.1:${port}/doctor`,
      MESSAGING_URL: `amqp://guest:guest@127.0.0.1:${port}`,
      REGISTRY_BACKEND: 'etcd',
      REGISTRY_ETCD_ENDPOINTS: `http://127.0.0.1:${port}`,
    });
    expect(result.code, result.out).toBe(1);
    expect(result.out).toContain('✓ configuration: valid');
    expect(result.out).toMatch(/^✗ database: .*within 1000 ms/m);
    expect(result.out).toMatch(/^✗ broker: .*1000 ms/m);
    expect(result.out).toMatch(/^✗ registry: .*within 1000 ms/m);
    expect(result.out).toContain('3 of 3 checks failed.');
    // The documented bound: a timeout for the checks, one for closing, and room for a slow machine.
    expect(result.ms).toBeLessThan(2 * 1000 + 3000);
    expect(accepted.size).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 50 && closed < accepted.size; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(accepted.size);
  }, 20_000);

  it('as a process, exits 1 within its bound when the database and the broker hang', async () => {
    const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
    const began = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', bin, 'doctor', '--timeout', '1000'], {
      cwd: fixture,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        DB_URL: `postgres://doctor@127.0.0.1:${port}/doctor`,
        MESSAGING_URL: `amqp://guest:guest@127.0.0.1:${port}`,
        REGISTRY_BACKEND: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code, out).toBe(1);
    expect(out).toMatch(/^✗ database: no answer from the database within 1000 ms$/m);
    expect(out).toMatch(/^✗ broker: /m);
    expect(out).toContain('2 of 3 checks failed.');
    expect(performance.now() - began).toBeLessThan(2 * 1000 + 8000);
  }, 20_000);

  it('passes on the embedded defaults', { timeout: 60_000 }, async () => {
    // Opening PGlite compiles its WebAssembly: seconds on a busy machine, hence a generous bound.
    const result = await doctor(['--timeout', '30000'], { REGISTRY_BACKEND: 'none' });
    expect(result.out).toContain('✓ database: answers (embedded PGlite)');
    expect(result.out).toContain('✓ broker: in-process (no broker configured)');
    expect(result.out).toContain('✓ registry: none configured');
    expect(result.code, result.out).toBe(0);
  });

  it('calls a bad --timeout a usage error', async () => {
    const result = await doctor(['--timeout', 'soon'], {});
    expect(result.code).toBe(2);
    expect(result.out).toContain('--timeout needs a whole number of milliseconds, not "soon"');
  });
});
