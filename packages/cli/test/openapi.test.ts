import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { redoclyLint } from './support/redocly-lint.js';

// A built service with access tokens, rate limiting and load shedding on.
const fixture = fileURLToPath(new URL('./fixtures/openapi-service/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'keelson-openapi-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = '';
  let err = '';
  const code = await runCli(
    argv,
    { out: (t) => (out += t), err: (t) => (err += t) },
    { cwd: fixture, interactive: false, env },
  );
  return { code, out, err };
}

/** A TCP server that counts the connections made to it. */
async function connectionCounter() {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { port, connections: () => connections, close: () => server.close() };
}

describe('keelson openapi', () => {
  it('writes the document of the service in the folder without listening or connecting', async () => {
    const counter = await connectionCounter();
    // The server's own port is taken, and every server it could reach is the counter.
    const env = {
      ACCESS_TOKENS_SECRET_FILE: join(fixture, 'config/token-secret'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(counter.port),
      DB_URL: `postgres://orders@127.0.0.1:${counter.port}/orders`,
      MESSAGING_URL: `amqp://127.0.0.1:${counter.port}`,
      REGISTRY_BACKEND: 'etcd',
      REGISTRY_ETCD_ENDPOINTS: `http://127.0.0.1:${counter.port}`,
    };
    try {
      const out = join(root, 'openapi.json');
      const written = await run(['openapi', '--out', out], env);
      expect(written.err).toBe('');
      expect(written.code).toBe(0);
      expect(written.out).toBe(`wrote ${out}\n`);
      const printed = await run(['openapi'], env);
      expect(printed.code).toBe(0);
      // The same document on every build: CI can compare it with the committed one.
      expect(printed.out).toBe(readFileSync(out, 'utf8'));
      expect(counter.connections()).toBe(0);

      const doc = JSON.parse(printed.out);
      expect(doc.info).toEqual({
        title: 'orders',
        version: '3.0.0',
        description: 'An orders API with every capability that answers errors switched on',
        license: { name: 'MIT', identifier: 'MIT' },
      });
      expect(doc.servers).toEqual([{ url: 'https://api.example.test/orders' }]);
      expect(Object.keys(doc.paths)).toEqual(['/orders/{id}', '/orders', '/catalog']);
      expect(doc.paths['/orders'].post.operationId).toBe('placeOrder');
      expect(doc.paths['/orders'].post.security).toEqual([{ bearerAuth: ['orders:write'] }]);
      expect(Object.keys(doc.paths['/orders'].post.responses)).toEqual([
        '201',
        '400',
        '401',
        '403',
        '413',
        '415',
        '429',
        '500',
        '503',
      ]);
      expect(redoclyLint(out)).toEqual({ errors: 0, warnings: 0, problems: [] });
    } finally {
      counter.close();
    }
  });

  it('says how to use it', async () => {
    const help = await run(['openapi', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: keelson openapi [--out <file>]');
    const wrong = await run(['openapi', '--output', 'x.json'], {});
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("Unknown option '--output'");
  });
});
