import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/index.js';
import { redoclyLint } from '../support/redocly-lint.js';

// What a newcomer does: pack the chassis (as if published), scaffold each template, install, run
// the generated tests, build, start, and get 200 from /health/ready.
const chassisDir = fileURLToPath(new URL('../../../chassis/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'keelson-e2e-'));
let tarball = '';

beforeAll(() => {
  execFileSync('npm', ['pack', '--silent', '--pack-destination', root], { cwd: chassisDir, stdio: 'pipe' });
  tarball = join(root, readdirSync(root).find((f) => f.endsWith('.tgz')) as string);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(argv: string[], cwd: string) {
  let out = '';
  const code = await runCli(
    argv,
    { out: (t) => (out += t), err: (t) => (out += t) },
    { cwd, interactive: false, env: process.env },
  );
  return { code, out };
}

function npm(args: string[], cwd: string): { code: number; output: string } {
  try {
    const output = execFileSync('npm', args, {
      cwd,
      stdio: 'pipe',
      env: { ...process.env, CI: 'true' },
    }).toString();
    return { code: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout?: Buffer; stderr?: Buffer };
    return { code: e.status, output: `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}` };
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function startAndProbe(dir: string): Promise<{ status: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(port), REGISTRY_BACKEND: 'none' },
    stdio: 'ignore',
  });
  let status = 0;
  for (let i = 0; i < 300 && status !== 200; i++) {
    status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { status, child };
}

describe.each([
  { template: 'http-api', name: 'order-service', extras: true },
  { template: 'worker', name: 'stock-worker', extras: false },
])('keelson new --template $template', ({ template, name, extras }) => {
  const dir = join(root, name);

  beforeAll(async () => {
    const created = await cli(['new', name, '--template', template, '--yes', '--chassis', tarball], root);
    expect(created.code, created.out).toBe(0);
    if (extras) {
      for (const [kind, item] of [
        ['route', 'widgets'],
        ['consumer', 'stock-changed'],
        ['plugin', 'audit-trail'],
      ] as const) {
        const added = await cli(['add', kind, item], dir);
        expect(added.code, added.out).toBe(0);
      }
    }
  });

  it('passes its own tests and typechecks', () => {
    const tested = npm(['test'], dir);
    expect(tested.code, tested.output).toBe(0);
    const typechecked = npm(['run', 'typecheck'], dir);
    expect(typechecked.code, typechecked.output).toBe(0);
  }, 180_000);

  it('builds, starts and answers 200 on /health/ready, then stops cleanly on SIGTERM', async () => {
    const built = npm(['run', 'build'], dir);
    expect(built.code, built.output).toBe(0);
    const { status, child } = await startAndProbe(dir);
    expect(status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 120_000);

  it("writes its OpenAPI document, with no error under Redocly's recommended rules", async () => {
    const written = await cli(['openapi', '--out', 'openapi.json'], dir);
    expect(written.code, written.out).toBe(0);
    const lint = redoclyLint(join(dir, 'openapi.json'));
    expect(lint.problems.filter((p) => p.startsWith('error'))).toEqual([]);
    expect(lint.errors).toBe(0);
  }, 60_000);

  it('explains its configuration and passes the doctor', async () => {
    const explained = await cli(['config', 'explain'], dir);
    expect(explained.code, explained.out).toBe(0);
    expect(explained.out).toMatch(/^http\.port\s+\d+\s+file \S*config\/default\.json$/m);
    expect(explained.out).toMatch(/^db\.url\s+"?\[redacted\]"?\s+default$/m);
    const doctored = await cli(['doctor'], dir);
    expect(doctored.out).toContain('✓ configuration: valid');
    expect(doctored.out).toContain('✓ database: answers (embedded PGlite)');
    expect(doctored.code, doctored.out).toBe(0);
  }, 60_000);
});
