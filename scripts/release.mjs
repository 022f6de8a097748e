// Publishes every public package whose version is not on the registry yet, in dependency order
// (@keelson/chassis, then @keelson/cli, then create-keelson), so that no published package ever
// depends on a version that cannot be installed; then tags the release in git. Run by
// `npm run release` after `npm run release:version`; `npm run release -- --dry-run` shows what it
// would publish without publishing or tagging.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../', import.meta.url));
const dryRun = process.argv.includes('--dry-run');

const packages = readdirSync(join(repo, 'packages'))
  .map((name) => join(repo, 'packages', name))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

/** Dependencies before their dependents. */
function inDependencyOrder(list) {
  const names = new Set(list.map((p) => p.manifest.name));
  const done = new Set();
  const ordered = [];
  const visit = (pkg, path = []) => {
    if (done.has(pkg.manifest.name)) return;
    if (path.includes(pkg.manifest.name))
      throw new Error(`dependency cycle: ${[...path, pkg.manifest.name].join(' → ')}`);
    for (const dep of Object.keys(pkg.manifest.dependencies ?? {}))
      if (names.has(dep))
        visit(
          list.find((p) => p.manifest.name === dep),
          [...path, pkg.manifest.name],
        );
    done.add(pkg.manifest.name);
    ordered.push(pkg);
  };
  for (const pkg of list) visit(pkg);
  return ordered;
}

function published(name, version) {
  try {
    return (
      execFileSync('npm', ['view', `${name}@${version}`, 'version'], { stdio: 'pipe' })
        .toString()
        .trim() === version
    );
  } catch (error) {
    if (String(error.stderr).includes('E404')) return false;
    throw error;
  }
}

let count = 0;
for (const { dir, manifest } of inDependencyOrder(packages)) {
  const spec = `${manifest.name}@${manifest.version}`;
  if (published(manifest.name, manifest.version)) {
    console.log(`= ${spec} is on the registry already`);
    continue;
  }
  console.log(`${dryRun ? 'would publish' : 'publishing'} ${spec}`);
  execFileSync('npm', ['publish', '--access', 'public', ...(dryRun ? ['--dry-run'] : [])], {
    cwd: dir,
    stdio: 'inherit',
  });
  count++;
}
if (!dryRun && count > 0) execFileSync('npx', ['changeset', 'tag'], { cwd: repo, stdio: 'inherit' });
console.log(`${dryRun ? 'Would publish' : 'Published'} ${count} package(s).`);
