import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliEnvironment, type CliOutput, UsageError } from '../cli-output.js';
import { planFiles, renderTemplate } from '../scaffold/render-template.js';
import { namePlaceholders, parseServiceName } from '../scaffold/service-name.js';
import { templatesDir } from '../scaffold/templates-dir.js';
import { WriteJournal } from '../scaffold/write-journal.js';

export const ADD_HELP = `Usage: keelson add <route|consumer|plugin> <name> [--topic <topic>]

Adds to the service in the current folder, with a test:
  route <name>       src/routes/<name>.ts: GET /<name>/:id with its schema
  consumer <name>    src/handlers/<name>.ts: a consumer of --topic (default: the name with dots)
  plugin <name>      src/plugins/<name>.ts: a plugin with its config keys and a health indicator
and wires it into src/service.ts where its "// @keelson ..." markers are. It never overwrites a file.
In a service made by keelson new, the CLI is a dev dependency: npx keelson add route orders.

Options:
  --topic <topic>   the topic a consumer consumes
  -h, --help        this help

Exit codes: 0 added, 1 failed, 2 usage mistake (nothing written).
`;

const KINDS = ['route', 'consumer', 'plugin'] as const;
type Kind = (typeof KINDS)[number];

/** Where each kind is wired into src/service.ts, and the line that wires it. */
const WIRING: Record<Kind, { marker: string; line: (p: Record<string, string>) => string }> = {
  route: { marker: '// @keelson routes', line: (p) => `register${p.__Name__}Routes(svc);` },
  consumer: { marker: '// @keelson consumers', line: (p) => `register${p.__Name__}Consumer(svc);` },
  plugin: { marker: '// @keelson plugins', line: (p) => `${p.__nameCamel__}Plugin,` },
};
const IMPORTS: Record<Kind, (p: Record<string, string>) => string> = {
  route: (p) => `import { register${p.__Name__}Routes } from './routes/${p.__name__}.js';`,
  consumer: (p) => `import { register${p.__Name__}Consumer } from './handlers/${p.__name__}.js';`,
  plugin: (p) => `import { ${p.__nameCamel__}Plugin } from './plugins/${p.__name__}.js';`,
};
const IMPORT_MARKER = '// @keelson imports';

/** `keelson add`. */
export async function add(argv: readonly string[], io: CliOutput, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { topic: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.out(ADD_HELP);
    return 0;
  }
  const [kind, rawName] = positionals;
  if (!KINDS.includes(kind as Kind) || !rawName)
    throw new UsageError(`keelson add needs a kind and a name\n\n${ADD_HELP}`);
  const name = parseServiceName(rawName);
  const manifestPath = join(env.cwd, 'package.json');
  const servicePath = join(env.cwd, 'src', 'service.ts');
  if (!existsSync(manifestPath) || !existsSync(servicePath))
    throw new UsageError(
      'run keelson add in a service created by keelson new (no package.json or src/service.ts here)',
    );
  const factory = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { keelson?: { factory?: string } })
    .keelson?.factory;
  const topic = values.topic ?? name.kebab.replaceAll('-', '.');
  const placeholders: Record<string, string> = {
    ...namePlaceholders(name),
    __topic__: topic,
    __factory__: factory ?? 'buildService',
  };

  const templateDir = join(templatesDir(), '_generators', kind as string);
  const manifest = { name: `add ${kind}`, description: '', features: {}, files: {}, dependencies: {} };
  const existing = planFiles({ templateDir, manifest, features: {}, placeholders })
    .map((f) => f.target)
    .filter((f) => existsSync(join(env.cwd, f)));
  if (existing.length > 0) throw new UsageError(`${existing.join(', ')} already exist`);
  renderTemplate({
    templateDir,
    manifest,
    journal: new WriteJournal(env.cwd),
    features: {},
    placeholders,
    onFile: (path) => io.out(`  create ${path}\n`),
  });

  const wiring = WIRING[kind as Kind];
  const source = readFileSync(servicePath, 'utf8');
  const wired = insertBefore(
    insertBefore(source, IMPORT_MARKER, IMPORTS[kind as Kind](placeholders)),
    wiring.marker,
    wiring.line(placeholders),
  );
  if (wired === undefined) {
    io.out(`src/service.ts has no "${IMPORT_MARKER}" / "${wiring.marker}" markers; add these lines yourself:
  ${IMPORTS[kind as Kind](placeholders)}
  ${wiring.line(placeholders)}
`);
    return 0;
  }
  writeFileSync(servicePath, wired);
  io.out(`  update src/service.ts\n`);
  return 0;
}

/** Inserts `line` above the marker line, with the marker's indentation; undefined when it is missing. */
function insertBefore(text: string | undefined, marker: string, line: string): string | undefined {
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === marker);
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(lines[at] ?? '')?.[0] ?? '';
  lines.splice(at, 0, `${indent}${line}`);
  return lines.join('\n');
}
