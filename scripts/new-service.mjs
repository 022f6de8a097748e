// `npm run new -- <name|path> [keelson new options]`: a new service from this checkout, anywhere on
// disk, before (or without) a release. It builds @keelson/chassis and @keelson/cli, packs both as
// `npm publish` would, and runs `keelson new` with the two tarballs: they are copied into the
// service's vendor/ folder and referenced from there (file:vendor/...), so the service installs,
// builds, tests, runs and builds its container without this checkout. Paths are taken from the
// folder `npm run` was started in.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
// biome-ignore lint/suspicious/noUndeclaredEnvVars: npm run sets it; this script is no turbo task.
const cwd = process.env.INIT_CWD ?? process.cwd();

if (!args.includes('--help') && !args.includes('-h')) {
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@keelson/cli...', '--output-logs=errors-only'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const packs = mkdtempSync(join(tmpdir(), 'keelson-packs-'));
try {
  const pack = (dir) => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', packs], {
        cwd: join(repo, dir),
        stdio: ['ignore', 'pipe', 'inherit'],
      }).toString(),
    );
    return join(packs, packed.filename);
  };
  const chassis = pack('packages/chassis');
  const cli = pack('packages/cli');
  const bin = join(repo, 'packages/cli/dist/bin.js');
  const result = spawnSync(process.execPath, [bin, 'new', ...args, '--chassis', chassis, '--cli', cli], {
    cwd,
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(packs, { recursive: true, force: true });
}
