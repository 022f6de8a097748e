// Release readiness of every public package, as users will get it: each is packed as `npm publish`
// would pack it, then
// - the tarball holds only what users need: package.json, README, CHANGELOG, LICENSE, compiled
//   JavaScript and its type declarations, and the CLI's templates; no tests, sources or source maps;
// - publint (strict: warnings count) finds nothing wrong with its package.json and entry points;
// - @arethetypeswrong/cli resolves its types as Node's ESM resolution does (the packages are
//   ESM-only, hence the esm-only profile).
// Exit code 1 with every problem listed when one of them fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const repo = fileURLToPath(new URL('../', import.meta.url));
const USER_FILES = [
  /^package\.json$/,
  /^(README|CHANGELOG)\.md$/,
  /^LICENSE$/,
  /^dist\/(?!.*\.test\.).+\.(js|d\.ts)$/,
];
/** Files a package ships besides those, by package name. */
const EXTRA_FILES = { '@keelson/cli': [/^templates\/(?!.*(node_modules|\/dist\/)).+$/] };

function publicPackages() {
  return readdirSync(join(repo, 'packages'))
    .map((name) => join(repo, 'packages', name))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);
}

const scratch = mkdtempSync(join(tmpdir(), 'keelson-release-check-'));
let problems = 0;
const fail = (name, message) => {
  problems++;
  console.error(`✗ ${name}: ${message}`);
};
try {
  for (const { dir, manifest } of publicPackages()) {
    const { name } = manifest;
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString(),
    );
    const tarball = join(scratch, packed.filename);
    const allowed = [...USER_FILES, ...(EXTRA_FILES[name] ?? [])];
    const files = packed.files.map((f) => f.path);
    for (const path of files.filter((f) => !allowed.some((pattern) => pattern.test(f))))
      fail(name, `the package would ship ${path}, which users do not need`);
    if (!files.includes('README.md')) fail(name, 'the package has no README.md');

    const buffer = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) },
      strict: true,
    });
    for (const message of messages) fail(name, `publint: ${formatMessage(message, pkg)}`);

    // A package that is only a command (create-keelson) has no entry point whose types to check.
    if (manifest.exports) {
      try {
        execFileSync('npx', ['attw', tarball, '--profile', 'esm-only', '--format', 'ascii'], {
          cwd: repo,
          stdio: 'pipe',
        });
      } catch (error) {
        fail(name, `@arethetypeswrong/cli:\n${error.stdout}${error.stderr}`);
      }
    }
    const checked = manifest.exports ? 'publint and attw' : 'publint (a command only: no types to check)';
    if (problems === 0) console.log(`✓ ${name}@${manifest.version}: ${files.length} files, ${checked} clean`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exitCode = problems === 0 ? 0 : 1;
