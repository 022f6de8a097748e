import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redoclyLint } from '../support/redocly-lint.js';
import { type DockerStage, dockerIgnored, parseDockerfile } from './dockerfile.js';

// What someone working from a checkout does, with the documented command: `npm run new -- <path>`
// builds and packs the chassis and the CLI and makes the service from those tarballs (vendored into
// it). Then the service is used the way its README says, with nothing of the checkout: its tests,
// `npx keelson ...`, a build, `npm start` and SIGTERM, and its container build, simulated without a
// Docker engine on a copy of the build context.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'keelson-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, CI: 'true', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function readyStatus(port: number): Promise<number> {
  let status = 0;
  for (let i = 0; i < 300 && status !== 200; i++) {
    status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return status;
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe.each([
  { template: 'http-api', name: 'order-service', flags: ['--with', 'tracingExport'], tracing: true },
  { template: 'worker', name: 'stock-worker', flags: [], tracing: false },
])('npm run new -- <path> --template $template', ({ template, name, flags, tracing }) => {
  const dir = join(root, 'services', name);

  beforeAll(() => {
    const created = run(
      'npm',
      ['run', 'new', '--silent', '--', dir, '--yes', '-t', template, ...flags],
      repo,
    );
    expect(created.code, created.output).toBe(0);
    expect(created.output).toContain('npx keelson add route <name>');
  });

  it('depends on the vendored Keelson packages, and only on what its features need', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.dependencies['@keelson/chassis']).toBe('file:vendor/keelson-chassis-0.1.0.tgz');
    expect(manifest.devDependencies['@keelson/cli']).toBe('file:vendor/keelson-cli-0.1.0.tgz');
    const otel = Object.keys(manifest.dependencies).filter((d) => d.startsWith('@opentelemetry/'));
    expect(otel.length).toBe(tracing ? 3 : 0);
    const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    expect(lock.includes('node_modules/@opentelemetry/sdk-trace"')).toBe(tracing);
    // Every local package the lock file names lies inside the service.
    const local = [...lock.matchAll(/"resolved": "file:([^"]+)"/g)].map((m) => m[1]);
    expect(local.sort()).toEqual(['vendor/keelson-chassis-0.1.0.tgz', 'vendor/keelson-cli-0.1.0.tgz']);
  });

  it('runs the packed CLI as npx keelson: add, config explain, doctor, openapi', () => {
    if (template === 'http-api') {
      for (const [kind, item] of [
        ['route', 'widgets'],
        ['consumer', 'stock-changed'],
        ['plugin', 'audit-trail'],
      ] as const) {
        const added = run('npx', ['keelson', 'add', kind, item], dir);
        expect(added.code, added.output).toBe(0);
      }
      expect(readFileSync(join(dir, 'src/routes/widgets.ts'), 'utf8')).toContain("'Reads one widget'");
    }
    const built = run('npm', ['run', 'build'], dir);
    expect(built.code, built.output).toBe(0);
    const explained = run('npx', ['keelson', 'config', 'explain'], dir);
    expect(explained.code, explained.output).toBe(0);
    expect(explained.output).toMatch(/^http\.port\s+\d+\s+file \S*config\/default\.json$/m);
    expect(explained.output).toMatch(/^db\.url\s+"?\[redacted\]"?\s+default$/m);
    const doctored = run('npx', ['keelson', 'doctor', '--timeout', '30000'], dir, {
      REGISTRY_BACKEND: 'none',
    });
    expect(doctored.output).toContain('✓ database: answers (embedded PGlite)');
    expect(doctored.code, doctored.output).toBe(0);
    // Its OpenAPI document, written without starting it, has no error under Redocly's recommended rules.
    const written = run('npx', ['keelson', 'openapi', '--out', 'openapi.json'], dir);
    expect(written.code, written.output).toBe(0);
    const lint = redoclyLint(join(dir, 'openapi.json'));
    expect(lint.problems.filter((p) => p.startsWith('error'))).toEqual([]);
    expect(lint.errors).toBe(0);
  }, 120_000);

  it('passes its own tests and typechecks', () => {
    const tested = run('npm', ['test'], dir);
    expect(tested.code, tested.output).toBe(0);
    const typechecked = run('npm', ['run', 'typecheck'], dir);
    expect(typechecked.code, typechecked.output).toBe(0);
  }, 180_000);

  it('starts with npm start, answers 200 on /health/ready and its HEALTHCHECK, and stops on SIGTERM to npm', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HTTP_PORT: String(port),
        REGISTRY_BACKEND: 'none',
      },
      stdio: 'ignore',
    });
    expect(await readyStatus(port)).toBe(200);
    // The image's HEALTHCHECK, run in the service folder: it finds the port the service listens on.
    const healthcheck = parseDockerfile(readFileSync(join(dir, 'Dockerfile'), 'utf8')).at(-1)?.healthcheck;
    expect(healthcheck?.[0]).toBe('node');
    const [bin, ...args] = healthcheck as string[];
    expect(run(bin as string, args, dir, { HTTP_PORT: String(port) }).code).toBe(0);
    expect(run(bin as string, args, dir, { HTTP_PORT: String(await freePort()) }).code).toBe(1);
    // SIGTERM to npm reaches the service (the start script execs node): both end, the port closes.
    expect(await stop(child)).toBe(0);
    expect(
      await fetch(`http://127.0.0.1:${port}/health/live`).then(
        () => 'open',
        () => 'closed',
      ),
    ).toBe('closed');
  }, 120_000);

  it('builds its container from the build context alone', async () => {
    const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const ignored = dockerIgnored(readFileSync(join(dir, '.dockerignore'), 'utf8'));
    // The context docker would send: the folder without what .dockerignore excludes, copied away
    // from the service so that nothing outside it can be reached.
    const context = join(root, 'contexts', name);
    cpSync(dir, context, { recursive: true, filter: (source) => !ignored(relative(dir, source)) });
    const stages: Record<string, string> = {};
    let runtime: { dir: string; stage: DockerStage } | undefined;
    for (const [index, stage] of parseDockerfile(dockerfile).entries()) {
      const app = join(root, 'images', name, String(index));
      mkdirSync(app, { recursive: true });
      for (const step of stage.steps) {
        if (step.kind === 'copy') {
          const from = step.from === undefined ? context : stages[step.from];
          expect(from, `COPY --from=${step.from}`).toBeDefined();
          for (const source of step.sources) {
            expect(
              existsSync(join(from as string, source)),
              `COPY ${source}: missing from the build context`,
            ).toBe(true);
            const target =
              step.sources.length > 1 || step.destination.endsWith('/')
                ? join(app, step.destination, source)
                : join(app, step.destination);
            cpSync(join(from as string, source), target, { recursive: true });
          }
        } else {
          const ran = run('sh', ['-c', step.command], app, stage.env);
          expect(ran.code, `RUN ${step.command}\n${ran.output}`).toBe(0);
        }
      }
      if (stage.name) stages[stage.name] = app;
      runtime = { dir: app, stage };
    }
    // The image runs: CMD with the image's environment, its HEALTHCHECK passes, SIGTERM stops it.
    const { dir: image, stage } = runtime as { dir: string; stage: DockerStage };
    const port = await freePort();
    const [command, ...args] = stage.cmd as string[];
    // In production it refuses the in-memory database its migrations need, naming db.url (exit 78)...
    const refused = run(command as string, args, image, { ...stage.env, HTTP_PORT: String(port) });
    expect(refused.code, refused.output).toBe(78);
    expect(refused.output).toContain('db.url: not set in production');
    // ...and runs on the embedded defaults when that is allowed on purpose, as here.
    const child = spawn(command as string, args, {
      cwd: image,
      env: {
        PATH: process.env.PATH ?? '',
        ...stage.env,
        HTTP_PORT: String(port),
        SERVICE_ALLOW_EMBEDDED_IN_PRODUCTION: 'true',
      },
      stdio: 'ignore',
    });
    try {
      expect(await readyStatus(port)).toBe(200);
      const [bin, ...checkArgs] = stage.healthcheck as string[];
      expect(run(bin as string, checkArgs, image, { ...stage.env, HTTP_PORT: String(port) }).code).toBe(0);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 300_000);
});
