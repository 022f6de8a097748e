// Time from `keelson new` to a running service: scaffold + dependency install, build, start until
// /health/ready answers 200. The chassis is packed first (as if published) and installed from the
// tarball; npm uses its cache as a newcomer's machine would after a first install.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { template: { type: 'string', default: process.env.BENCH_TEMPLATE ?? 'http-api' } },
});
const repo = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'keelson-new-bench-'));
const seconds = (from) => ((performance.now() - from) / 1000).toFixed(1);

try {
  // The chassis and the CLI (the service's dev dependency), packed as if published.
  const pack = (dir) =>
    join(
      root,
      execFileSync('npm', ['pack', '--silent', '--pack-destination', root], { cwd: join(repo, dir) })
        .toString()
        .trim()
        .split('\n')
        .at(-1),
    );
  const tarball = pack('packages/chassis');
  const cliTarball = pack('packages/cli');
  const began = performance.now();
  execFileSync(
    process.execPath,
    [
      join(repo, 'packages/cli/dist/bin.js'),
      'new',
      'bench-service',
      '--template',
      values.template,
      '--yes',
      '--chassis',
      tarball,
      '--cli',
      cliTarball,
    ],
    { cwd: root, stdio: 'ignore' },
  );
  const created = seconds(began);
  const dir = join(root, 'bench-service');
  const buildStarted = performance.now();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'ignore' });
  const built = seconds(buildStarted);

  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  const startStarted = performance.now();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HTTP_PORT: String(port), REGISTRY_BACKEND: 'none' },
    stdio: 'ignore',
  });
  let status = 0;
  for (let i = 0; i < 600 && status !== 200; i++) {
    status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const started = seconds(startStarted);
  child.kill('SIGTERM');
  await once(child, 'exit');
  if (status !== 200) throw new Error(`the service never became ready (last status ${status})`);
  console.log(`keelson new --template ${values.template} to a ready service: ${seconds(began)} s`);
  console.log(`  scaffold + install ${created} s, build ${built} s, start to ready ${started} s`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
