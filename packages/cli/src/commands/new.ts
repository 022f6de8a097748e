import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ShutdownOverrides, shutdownBudgetMs } from '@keelson/chassis';
import { type CliEnvironment, type CliOutput, ownManifest, UsageError } from '../cli-output.js';
import { installDependencies, type PackageManager } from '../scaffold/install-dependencies.js';
import { renderTemplate } from '../scaffold/render-template.js';
import { namePlaceholders, parseServiceName } from '../scaffold/service-name.js';
import { readManifest, resolveFeatures } from '../scaffold/template-manifest.js';
import { templateNames, templatesDir } from '../scaffold/templates-dir.js';

export const NEW_HELP = `Usage: keelson new <name> [options]

Creates a service from a template, installs its dependencies and says what to run next.
On a terminal it asks for what the flags do not say; with --yes or without a terminal it asks nothing.

Options:
  -t, --template <name>     http-api (default) or worker
  --features <a,b,...>      exactly these features (see below)
  --with <a,b,...>          these features on, besides the template's defaults
  --no-<feature>            this feature off, e.g. --no-registry
  --pm <npm|pnpm|yarn>      package manager (default: the one running this command, else npm)
  --dir <path>              where to create it (default: ./<name>)
  --chassis <path|tarball>  depend on a local @keelson/chassis build instead of the published one
  --no-install              write the files only
  --force                   write into a directory that is not empty
  -y, --yes                 accept the defaults, ask nothing

Features: database (PostgreSQL, embedded PGlite by default), messaging (RabbitMQ, in-process by
default; with database: the transactional outbox), registry (etcd in production), tracingExport
(OTLP export in production).
`;

const PACKAGE_MANAGERS: readonly PackageManager[] = ['npm', 'pnpm', 'yarn'];
const GRACE_MARGIN_SECONDS = 5;

/** `keelson new`: the steps, each announced as it happens. */
export async function newService(
  argv: readonly string[],
  io: CliOutput,
  env: CliEnvironment,
): Promise<number> {
  const negated = argv.filter((a) => a.startsWith('--no-')).map((a) => a.slice('--no-'.length));
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => !a.startsWith('--no-')),
    allowPositionals: true,
    options: {
      template: { type: 'string', short: 't' },
      features: { type: 'string' },
      with: { type: 'string' },
      pm: { type: 'string' },
      dir: { type: 'string' },
      chassis: { type: 'string' },
      force: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(NEW_HELP);
    return 0;
  }
  const [rawName, ...extra] = positionals;
  if (!rawName) throw new UsageError('keelson new needs a name, e.g. keelson new order-service');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const name = parseServiceName(rawName);
  const install = !negated.includes('install');
  const featuresOff = negated.filter((f) => f !== 'install');
  const ask = env.interactive && !values.yes;

  const root = templatesDir();
  const available = templateNames(root);
  let template = values.template;
  if (!template && ask)
    template = await env.prompter.select(
      'Template',
      available.map((t) => ({ value: t, name: t, description: readManifest(root, t).description })),
      'http-api',
    );
  template ??= 'http-api';
  if (!available.includes(template))
    throw new UsageError(`unknown template "${template}": one of ${available.join(', ')}`);
  const manifest = readManifest(root, template);

  let features = resolveFeatures(manifest, {
    ...(values.features !== undefined ? { exactly: list(values.features) } : {}),
    on: list(values.with),
    off: featuresOff,
  });
  if (ask && values.features === undefined && values.with === undefined && featuresOff.length === 0) {
    const chosen = await env.prompter.checkbox(
      'Features',
      Object.entries(manifest.features).map(([feature, spec]) => ({
        value: feature,
        name: feature,
        description: spec.doc,
        checked: features[feature] ?? false,
        ...(spec.required ? { disabled: true } : {}),
      })),
    );
    const required = Object.entries(manifest.features)
      .filter(([, s]) => s.required)
      .map(([f]) => f);
    features = resolveFeatures(manifest, { exactly: [...new Set([...chosen, ...required])] });
  }

  let pm = (values.pm ?? detectPackageManager(env.env)) as PackageManager;
  if (!values.pm && ask)
    pm = (await env.prompter.select(
      'Package manager',
      PACKAGE_MANAGERS.map((p) => ({ value: p, name: p })),
      pm,
    )) as PackageManager;
  if (!PACKAGE_MANAGERS.includes(pm))
    throw new UsageError(`unknown package manager "${pm}": npm, pnpm or yarn`);

  const targetDir = resolve(env.cwd, values.dir ?? name.kebab);
  if (existsSync(targetDir) && !statSync(targetDir).isDirectory())
    throw new UsageError(`${targetDir} exists and is not a directory`);
  if (existsSync(targetDir) && readdirSync(targetDir).length > 0 && !values.force)
    throw new UsageError(`${targetDir} is not empty: choose another --dir, or --force to write into it`);

  const shutdown = productionShutdown(join(root, template));
  const placeholders = {
    ...namePlaceholders(name),
    __chassisDependency__: chassisDependency(values.chassis, env.cwd),
    __terminationGraceSeconds__: String(Math.ceil(shutdownBudgetMs(shutdown) / 1000) + GRACE_MARGIN_SECONDS),
    __preStopDelayMs__: String(shutdown.preStopDelayMs ?? 0),
  };

  const on = Object.entries(features)
    .filter(([, v]) => v)
    .map(([f]) => f);
  io.out(`Creating ${name.packageName} from the ${template} template (${on.join(', ') || 'no features'})\n`);
  const files = renderTemplate({
    templateDir: join(root, template),
    manifest,
    targetDir,
    features,
    placeholders,
    onFile: (path) => io.out(`  create ${path}\n`),
  });
  io.out(`Wrote ${files.length} files.\n`);

  if (install) {
    io.out(`Installing dependencies with ${pm}...\n`);
    const began = Date.now();
    await installDependencies(targetDir, pm, (seconds) => {
      if (seconds % 5 === 0) io.out(`  still installing (${seconds} s)\n`);
    });
    io.out(`Installed in ${Math.round((Date.now() - began) / 1000)} s.\n`);
  }

  const where = relative(env.cwd, targetDir) || '.';
  const run = pm === 'npm' ? 'npm run' : pm;
  io.out(`
Done. Next:
  cd ${where}
${install ? '' : `  ${pm} install\n`}  ${run} test        # the service's tests, on the embedded defaults
  ${run} dev         # run it, restarting on changes
  keelson add route <name>      # add a REST resource (also: consumer, plugin)
`);
  return 0;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function detectPackageManager(env: NodeJS.ProcessEnv): string {
  const agent = env.npm_config_user_agent ?? '';
  return PACKAGE_MANAGERS.find((pm) => agent.startsWith(`${pm}/`)) ?? 'npm';
}

/** The version this CLI was released with, or a local build (`file:` path or tarball). */
function chassisDependency(local: string | undefined, cwd: string): string {
  if (local) {
    const path = resolve(cwd, local);
    if (!existsSync(path)) throw new UsageError(`--chassis ${local}: no such file or directory`);
    return `file:${path}`;
  }
  const version = ownManifest().dependencies['@keelson/chassis'] ?? 'latest';
  return /^\d/.test(version) ? `^${version}` : version;
}

/** The shutdown settings of the template's production config, for terminationGracePeriodSeconds. */
function productionShutdown(templateDir: string): ShutdownOverrides {
  const file = join(templateDir, 'config', 'production.json');
  if (!existsSync(file)) return {};
  const config = JSON.parse(readFileSync(file, 'utf8')) as { shutdown?: ShutdownOverrides };
  return config.shutdown ?? {};
}
