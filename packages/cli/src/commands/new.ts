import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { type ShutdownOverrides, shutdownBudgetMs } from '@keelson/chassis';
import { type CliEnvironment, type CliOutput, ownManifest, UsageError } from '../cli-output.js';
import { installDependencies } from '../scaffold/install-dependencies.js';
import {
  installedPackageManagers,
  PACKAGE_MANAGERS,
  type PackageManager,
} from '../scaffold/package-managers.js';
import { planFiles, renderTemplate } from '../scaffold/render-template.js';
import { namePlaceholders, parseServiceName, type ServiceName } from '../scaffold/service-name.js';
import { readManifest, resolveFeatures, type TemplateManifest } from '../scaffold/template-manifest.js';
import { templateNames, templatesDir } from '../scaffold/templates-dir.js';
import { WriteJournal } from '../scaffold/write-journal.js';

export const NEW_HELP = `Usage: keelson new <name|path> [options]

Creates a service from a template, installs its dependencies and says what to run next.
On a terminal it asks for what the flags do not say (the name included); with --yes or without a
terminal it asks nothing. The name, the folder and the package manager are checked before any
question; a file that exists is never overwritten, and a failure removes what was written.

  keelson new order-service                 ./order-service, package and service "order-service"
  keelson new ../services/order-service     that folder; the name is its last part
  keelson new @acme/order-service           package "@acme/order-service", ./order-service

Options:
  -t, --template <name>     http-api (default) or worker
  --features <a,b,...>      exactly these features (see below)
  --with <a,b,...>          these features on, besides the template's defaults
  --no-<feature>            this feature off, e.g. --no-registry
  --pm <npm|pnpm|yarn>      package manager (default: the one running this command, else npm)
  --dir <path>              where to create it (default: ./<name>, or the path given)
  --chassis <tarball>       use this build of @keelson/chassis (npm pack): copied into vendor/
                            and referenced from there, so the container build has it too
  --cli <tarball>           the same for the @keelson/cli dev dependency
  --no-install              write the files only
  --force                   write into a folder that is not empty (existing files are kept)
  -y, --yes                 accept the defaults, ask nothing
  -h, --help                this help

Features: database (PostgreSQL, embedded PGlite by default), messaging (RabbitMQ, in-process by
default; with database: the transactional outbox), registry (etcd in production), tracingExport
(OTLP export in production).

Exit codes: 0 done, 1 failed (what was written is removed), 2 usage mistake (nothing written),
130 interrupted at a question.
`;

const GRACE_MARGIN_SECONDS = 5;

/** `keelson new`: checks everything it can, asks what is missing, then writes, each step announced. */
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
      cli: { type: 'string' },
      force: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(NEW_HELP);
    return 0;
  }
  const [given, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const install = !negated.includes('install');
  const featuresOff = negated.filter((f) => f !== 'install');
  const ask = env.interactive && !values.yes;

  // Everything the flags say is checked before the first question.
  const root = templatesDir();
  const available = templateNames(root);
  if (values.template !== undefined && !available.includes(values.template))
    throw new UsageError(`unknown template "${values.template}": one of ${available.join(', ')}`);
  const pm = choosePackageManager(values.pm, env, install);
  const vendored = {
    chassis: values.chassis === undefined ? undefined : localPath('--chassis', values.chassis, env.cwd),
    cli: values.cli === undefined ? undefined : localPath('--cli', values.cli, env.cwd),
  };
  const askedFeatures = {
    ...(values.features !== undefined ? { exactly: list(values.features) } : {}),
    on: list(values.with),
    off: featuresOff,
  };
  if (values.template !== undefined) resolveFeatures(readManifest(root, values.template), askedFeatures);
  else {
    const known = new Set(available.flatMap((t) => Object.keys(readManifest(root, t).features)));
    const unknown = [...(askedFeatures.exactly ?? []), ...askedFeatures.on, ...featuresOff].find(
      (f) => !known.has(f),
    );
    if (unknown)
      throw new UsageError(`no template has a feature "${unknown}" (features: ${[...known].join(', ')})`);
  }

  const check = (answer: string) => parseTarget(answer, values.dir, env.cwd, values.force);
  const answer =
    given ??
    (ask
      ? (await env.prompter.input('Service name', (a) => problemOf(() => check(a.trim())))).trim()
      : undefined);
  if (answer === undefined) throw new UsageError('keelson new needs a name, e.g. keelson new order-service');
  const { name, dir: targetDir } = check(answer);

  let template = values.template;
  if (!template && ask)
    template = await env.prompter.select(
      'Template',
      available.map((t) => ({ value: t, name: t, description: readManifest(root, t).description })),
      'http-api',
    );
  template ??= 'http-api';
  const manifest = readManifest(root, template);
  let features = resolveFeatures(manifest, askedFeatures);
  if (ask && values.features === undefined && values.with === undefined && featuresOff.length === 0)
    features = await askFeatures(env, manifest, features);

  let packageManager = pm.chosen;
  if (pm.ask && ask && pm.installed.length > 1)
    packageManager = (await env.prompter.select(
      'Package manager',
      pm.installed.map((p) => ({ value: p, name: p })),
      packageManager,
    )) as PackageManager;

  const templateDir = join(root, template);
  const shutdown = productionShutdown(templateDir);
  const vendorFile = (pkg: string | undefined) => (pkg ? `vendor/${basename(pkg)}` : undefined);
  const own = ownManifest();
  const placeholders = {
    ...namePlaceholders(name),
    __chassisDependency__: dependencySpec(vendorFile(vendored.chassis), own.dependencies['@keelson/chassis']),
    __cliDependency__: dependencySpec(vendorFile(vendored.cli), own.version),
    __terminationGraceSeconds__: String(Math.ceil(shutdownBudgetMs(shutdown) / 1000) + GRACE_MARGIN_SECONDS),
    __preStopDelayMs__: String(shutdown.preStopDelayMs ?? 0),
    __preStopDelaySeconds__: String(Math.ceil((shutdown.preStopDelayMs ?? 0) / 1000)),
  };
  // `vendor` is no feature users pick: it says that the packages come from vendor/.
  const conditions = { ...features, vendor: Boolean(vendored.chassis || vendored.cli) };
  const render = { templateDir, manifest, features: conditions, placeholders };

  // Never overwrite: --force only allows a folder that holds other files.
  const taken = [
    ...planFiles(render).map((f) => f.target),
    ...Object.values(vendored).flatMap((p) => vendorFile(p) ?? []),
  ].filter((f) => existsSync(join(targetDir, f)));
  if (taken.length > 0)
    throw new UsageError(
      `${targetDir} already holds ${taken.join(', ')}: keelson new never overwrites a file`,
    );

  const on = Object.entries(features)
    .filter(([, v]) => v)
    .map(([f]) => f);
  io.out(`Creating ${name.packageName} from the ${template} template (${on.join(', ') || 'no features'})\n`);
  const journal = new WriteJournal(targetDir);
  try {
    const files = renderTemplate({ ...render, journal, onFile: (path) => io.out(`  create ${path}\n`) });
    for (const tarball of Object.values(vendored)) {
      const file = vendorFile(tarball);
      if (!tarball || !file) continue;
      journal.copyFile(tarball, file);
      io.out(`  create ${file}\n`);
      files.push(file);
    }
    io.out(`Wrote ${files.length} files.\n`);
    if (install) {
      io.out(`Installing dependencies with ${packageManager}...\n`);
      const began = Date.now();
      await installDependencies(targetDir, packageManager, env.env, (seconds) => {
        if (seconds % 5 === 0) io.out(`  still installing (${seconds} s)\n`);
      });
      io.out(`Installed in ${Math.round((Date.now() - began) / 1000)} s.\n`);
    }
  } catch (error) {
    journal.undo();
    io.err(`keelson new: removed what it wrote in ${targetDir}\n`);
    if (/E404[\s\S]*@keelson\//.test((error as Error).message))
      io.err(
        'keelson new: this version of Keelson is not on the registry; from a checkout of Keelson, ' +
          '`npm run new -- <path>` makes the service from the checkout (docs/getting-started.md)\n',
      );
    throw error;
  }

  const where = relative(env.cwd, targetDir) || '.';
  const run = packageManager === 'npm' ? 'npm run' : packageManager;
  const exec = { npm: 'npx', pnpm: 'pnpm exec', yarn: 'yarn' }[packageManager];
  io.out(`
Done. Next:
  cd ${where.includes(' ') ? JSON.stringify(where) : where}
${install ? '' : `  ${packageManager} install\n`}  ${run} test        # the service's tests, on the embedded defaults
  ${run} dev         # run it, restarting on changes
  ${exec} keelson add route <name>      # add a REST resource (also: consumer, plugin)
`);
  return 0;
}

interface Target {
  name: ServiceName;
  dir: string;
}

/**
 * The name and folder of `keelson new <given>`: a name (`order-service`, `@acme/order-service`)
 * makes ./<name without scope>; a path (`../order-service`) is the folder, and its last part the
 * name. Throws a usage error when the name is invalid or the folder cannot take the service.
 */
function parseTarget(
  given: string,
  dirFlag: string | undefined,
  cwd: string,
  force: boolean | undefined,
): Target {
  if (given === '') throw new UsageError('the name is empty');
  const isPath =
    !given.startsWith('@') && (given.includes('/') || given.includes(sep) || given.startsWith('.'));
  const name = parseServiceName(isPath ? basename(resolve(cwd, given)) : given);
  const dir = resolve(cwd, dirFlag ?? (isPath ? given : name.kebab));
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new UsageError(`${dir} exists and is not a folder`);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force)
    throw new UsageError(
      `${dir} is not empty: choose another folder, or --force to add the service's files to it`,
    );
  return { name, dir };
}

/** The message of the usage error `check` throws, or undefined: for validating answers. */
function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
}

async function askFeatures(
  env: CliEnvironment,
  manifest: TemplateManifest,
  defaults: Record<string, boolean>,
): Promise<Record<string, boolean>> {
  const chosen = await env.prompter.checkbox(
    'Features',
    Object.entries(manifest.features).map(([feature, spec]) => ({
      value: feature,
      name: feature,
      description: spec.doc,
      checked: defaults[feature] ?? false,
      ...(spec.required ? { disabled: true } : {}),
    })),
  );
  const required = Object.entries(manifest.features)
    .filter(([, s]) => s.required)
    .map(([f]) => f);
  return resolveFeatures(manifest, { exactly: [...new Set([...chosen, ...required])] });
}

/**
 * The package manager: the flag's (which must be installed when it will install), else the one
 * running this command, else npm. `ask` when the user may still choose among the installed ones.
 */
function choosePackageManager(
  flag: string | undefined,
  env: CliEnvironment,
  install: boolean,
): { chosen: PackageManager; ask: boolean; installed: PackageManager[] } {
  if (flag !== undefined && !PACKAGE_MANAGERS.includes(flag as PackageManager))
    throw new UsageError(`unknown package manager "${flag}": npm, pnpm or yarn`);
  const installed = installedPackageManagers(env.env);
  const agent = env.env.npm_config_user_agent ?? '';
  const running = PACKAGE_MANAGERS.find((pm) => agent.startsWith(`${pm}/`));
  const chosen = (flag ?? (running && installed.includes(running) ? running : 'npm')) as PackageManager;
  if (install && !installed.includes(chosen))
    throw new UsageError(
      `${chosen} is not installed (not found on PATH): install it, choose another with --pm, or --no-install`,
    );
  return { chosen, ask: flag === undefined, installed };
}

function localPath(flag: string, given: string, cwd: string): string {
  const path = resolve(cwd, given);
  if (!existsSync(path)) throw new UsageError(`${flag} ${given}: no such file`);
  if (!path.endsWith('.tgz') || !statSync(path).isFile())
    throw new UsageError(`${flag} ${given}: give a package tarball, as npm pack makes (.tgz)`);
  return path;
}

/** `file:vendor/<tarball>` for a vendored package, else a range from the released version. */
function dependencySpec(vendorFile: string | undefined, version: string | undefined): string {
  if (vendorFile) return `file:${vendorFile}`;
  const released = version ?? 'latest';
  return /^\d/.test(released) ? `^${released}` : released;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The shutdown settings of the template's production config: the grace period and preStop hook. */
function productionShutdown(templateDir: string): ShutdownOverrides {
  const file = join(templateDir, 'config', 'production.json');
  if (!existsSync(file)) return {};
  const config = JSON.parse(readFileSync(file, 'utf8')) as { shutdown?: ShutdownOverrides };
  return config.shutdown ?? {};
}
