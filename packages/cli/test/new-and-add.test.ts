import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Prompter, runCli } from '../src/index.js';
import { renderText } from '../src/scaffold/render-text.js';
import { parseServiceName } from '../src/scaffold/service-name.js';

const root = mkdtempSync(join(tmpdir(), 'keelson-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const dir = join(root, `case-${++dirs}`);
  mkdirSync(dir);
  return dir;
};

/** Answers questions from a script, and keeps what was asked. */
function scripted(answers: unknown[]): Prompter & { asked: string[]; problems: (string | undefined)[] } {
  const problems: (string | undefined)[] = [];
  const asked: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`no scripted answer for "${message}"`);
    return Promise.resolve(answers.shift());
  };
  return {
    asked,
    problems,
    input: async (message, validate) => {
      const answer = (await next(message)) as string[];
      // Each answer but the last is refused: the prompt asks again, as inquirer's does.
      for (const tried of answer) problems.push(validate(tried));
      return answer.at(-1) as string;
    },
    select: (message) => next(message) as Promise<string>,
    checkbox: (message) => next(message) as Promise<string[]>,
  };
}

async function run(
  argv: string[],
  options: { cwd: string; interactive?: boolean; prompter?: Prompter; env?: NodeJS.ProcessEnv },
) {
  let out = '';
  let err = '';
  const code = await runCli(
    argv,
    { out: (t) => (out += t), err: (t) => (err += t) },
    {
      cwd: options.cwd,
      interactive: options.interactive ?? false,
      env: options.env ?? {},
      ...(options.prompter ? { prompter: options.prompter } : {}),
    },
  );
  return { code, out, err };
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe('keelson new', () => {
  it('without a terminal: the defaults of the template, nothing asked, next steps printed', async () => {
    const cwd = freshDir();
    const result = await run(['new', 'order-service', '--no-install'], { cwd });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('Creating order-service from the http-api template');
    expect(result.out).toContain('  create src/service.ts');
    expect(result.out).toMatch(/cd order-service\n\s+npm install\n\s+npm run test/);
    const dir = join(cwd, 'order-service');
    const manifest = JSON.parse(read(dir, 'package.json')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: 'order-service', keelson: { factory: 'buildOrderService' } });
    expect((manifest.dependencies as Record<string, string>)['@keelson/chassis']).toMatch(/^\^\d/);
    expect(existsSync(join(dir, '.gitignore'))).toBe(true);
    expect(existsSync(join(dir, 'gitignore'))).toBe(false);
    // Every placeholder and marker is gone.
    for (const file of [
      'src/service.ts',
      'README.md',
      'Dockerfile',
      'docker-compose.yml',
      'k8s/deployment.yaml',
    ])
      expect(read(dir, file)).not.toMatch(/__[A-Za-z_]+__|@@(if|else|endif)/);
    expect(read(dir, 'k8s/deployment.yaml')).toMatch(/terminationGracePeriodSeconds: \d+/);
  });

  it('with flags only: template, features switched off, a local chassis', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'keelson-chassis-0.1.0.tgz'), 'a packed chassis');
    const result = await run(
      [
        'new',
        'ledger',
        '--template',
        'worker',
        '--no-database',
        '--no-registry',
        '--chassis',
        'keelson-chassis-0.1.0.tgz',
        '--no-install',
        '--yes',
      ],
      { cwd, interactive: true, prompter: scripted([]) },
    );
    expect(result.code).toBe(0);
    const dir = join(cwd, 'ledger');
    const manifest = JSON.parse(read(dir, 'package.json'));
    // Inside the service, so that its container build context holds it.
    expect(manifest.dependencies['@keelson/chassis']).toBe('file:vendor/keelson-chassis-0.1.0.tgz');
    expect(read(dir, 'vendor/keelson-chassis-0.1.0.tgz')).toBe('a packed chassis');
    expect(read(dir, 'Dockerfile')).toMatch(/^COPY vendor \.\/vendor\nRUN npm ci$/m);
    // The CLI was not given: the released one.
    expect(manifest.devDependencies['@keelson/cli']).toMatch(/^\^\d/);
    // No dead code of the features that are off.
    const sources = ['src/service.ts', 'config/production.json', 'docker-compose.yml', '.env.example'].map(
      (f) => (existsSync(join(dir, f)) ? read(dir, f) : ''),
    );
    expect(sources.join('\n')).not.toMatch(/idempotent|postgres|DB_URL|etcd/i);
  });

  it('on a terminal: asks for template, features and, among the installed ones, package manager', async () => {
    const cwd = freshDir();
    // A pnpm on the PATH, yarn nowhere: only npm and pnpm are offered.
    const bin = join(cwd, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'pnpm'), '#!/bin/sh\necho 10.0.0\n', { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const offered: string[][] = [];
    const prompter = scripted(['worker', ['messaging', 'database'], 'pnpm']);
    const select = prompter.select;
    prompter.select = (message, choices, initial) => {
      offered.push(choices.map((c) => c.value));
      return select(message, choices, initial);
    };
    let out = '';
    const code = await runCli(
      ['new', 'billing', '--no-install'],
      { out: (t) => (out += t), err: (t) => (out += t) },
      { cwd, interactive: true, prompter, env },
    );
    expect(code, out).toBe(0);
    expect(prompter.asked).toEqual(['Template', 'Features', 'Package manager']);
    expect(offered[1]).toEqual(['npm', 'pnpm']);
    expect(out).toContain('from the worker template (database, messaging)');
    expect(out).toContain('pnpm exec keelson add route');
    expect(read(join(cwd, 'billing'), 'src/service.ts')).not.toMatch(/registry/);
  });

  it('refuses invalid names, naming the rule', async () => {
    const cwd = freshDir();
    for (const name of ['Order Service', 'node_modules', '.hidden', '1st', 'a'.repeat(70)]) {
      const result = await run(['new', name, '--no-install'], { cwd });
      expect(result.code, name).toBe(2);
      expect(result.err, name).toContain(`invalid service name "${name}"`);
    }
    expect(parseServiceName('@acme/order-service')).toEqual({
      packageName: '@acme/order-service',
      kebab: 'order-service',
      pascal: 'OrderService',
      camel: 'orderService',
      snake: 'order_service',
      singular: 'order-service',
    });
    expect(parseServiceName('orders').singular).toBe('order');
    expect(parseServiceName('order-items').singular).toBe('order-item');
  });

  it('refuses to write into a directory that is not empty, unless forced', async () => {
    const cwd = freshDir();
    mkdirSync(join(cwd, 'taken'));
    writeFileSync(join(cwd, 'taken', 'notes.txt'), 'mine');
    const refused = await run(['new', 'taken', '--no-install'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('is not empty');
    expect(existsSync(join(cwd, 'taken', 'package.json'))).toBe(false);
    const forced = await run(['new', 'taken', '--no-install', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(read(join(cwd, 'taken'), 'notes.txt')).toBe('mine');
  });

  it('makes a service whose dependencies, manifests and scripts fit its features', async () => {
    const cwd = freshDir();
    expect((await run(['new', 'plain', '--no-install'], { cwd })).code).toBe(0);
    expect((await run(['new', 'traced', '--with', 'tracingExport', '--no-install'], { cwd })).code).toBe(0);
    const plain = JSON.parse(read(join(cwd, 'plain'), 'package.json'));
    const traced = JSON.parse(read(join(cwd, 'traced'), 'package.json'));
    const otel = (deps: Record<string, string>) =>
      Object.keys(deps).filter((d) => d.startsWith('@opentelemetry/'));
    expect(otel(plain.dependencies)).toEqual([]);
    expect(otel(traced.dependencies)).toEqual([
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/resources',
      '@opentelemetry/sdk-trace',
    ]);
    // `npx keelson add ...` works inside the service; `npm start` hands SIGTERM to node.
    expect(plain.devDependencies['@keelson/cli']).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(plain.scripts.start).toBe('exec node dist/main.js');

    const dir = join(cwd, 'plain');
    // `kubectl apply -f k8s/` applies the Deployment and the Service, never a Secret.
    const manifests = readdirSync(join(dir, 'k8s'))
      .map((f) => read(dir, `k8s/${f}`))
      .join('\n---\n');
    expect([...manifests.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1])).toEqual(['Deployment', 'Service']);
    const deployment = read(dir, 'k8s/deployment.yaml');
    // Secrets as files, read through X_FILE.
    expect(deployment).toContain('- name: DB_URL_FILE\n              value: /run/secrets/plain/DB_URL');
    expect(deployment).toContain(
      '- name: MESSAGING_URL_FILE\n              value: /run/secrets/plain/MESSAGING_URL',
    );
    expect(deployment).toMatch(/- name: secrets\n {14}mountPath: \/run\/secrets\/plain\n {14}readOnly: true/);
    expect(deployment).not.toMatch(/secretKeyRef|change-me/);
    // The preStop hook sleeps the pre-stop delay of config/production.json; the service waits once.
    const { shutdown } = JSON.parse(read(dir, 'config/production.json'));
    expect(deployment).toContain(`command: ["sleep", "${shutdown.preStopDelayMs / 1000}"]`);
    expect(deployment).toContain('command: ["node", "dist/main.js", "--shutdown.preStopDelayMs=0"]');
    expect(read(dir, 'Dockerfile')).not.toMatch(/127\.0\.0\.1:3000/);
    expect(read(dir, 'Dockerfile')).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(read(dir, 'Dockerfile')).not.toContain('vendor');

    const worker = join(cwd, 'worker-1');
    expect(
      (await run(['new', 'worker-1', '-t', 'worker', '--no-database', '--no-install'], { cwd })).code,
    ).toBe(0);
    expect(read(worker, 'k8s/deployment.yaml')).not.toContain('DB_URL');
    expect(read(worker, 'k8s/deployment.yaml')).toContain('MESSAGING_URL_FILE');
  });

  it('asks for a missing name on a terminal, again while it is invalid', async () => {
    const cwd = freshDir();
    const prompter = scripted([['', 'Bad Name', 'ledger'], 'worker', ['messaging'], 'npm']);
    const result = await run(['new', '--no-install'], { cwd, interactive: true, prompter });
    expect(result.code, result.err).toBe(0);
    expect(prompter.asked[0]).toBe('Service name');
    expect(prompter.problems[0]).toBe('the name is empty');
    expect(prompter.problems[1]).toContain('invalid service name "Bad Name"');
    expect(prompter.problems[2]).toBeUndefined();
    expect(existsSync(join(cwd, 'ledger', 'src', 'service.ts'))).toBe(true);
    const noTerminal = await run(['new', '--no-install'], { cwd });
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.err).toContain('keelson new needs a name');
  });

  it('checks the name, the folder and the package manager before asking or writing anything', async () => {
    const cwd = freshDir();
    mkdirSync(join(cwd, 'taken'));
    writeFileSync(join(cwd, 'taken', 'notes.txt'), 'mine');
    const noPath = { PATH: join(cwd, 'no-such-bin') };
    for (const [argv, message, env] of [
      [['new', 'Bad Name'], 'invalid service name', {}],
      [['new', 'taken'], 'is not empty', {}],
      [['new', 'fresh', '--pm', 'bun'], 'unknown package manager "bun"', {}],
      [['new', 'fresh', '--pm', 'pnpm'], 'pnpm is not installed (not found on PATH)', noPath],
      [['new', 'fresh', '--template', 'grpc'], 'unknown template "grpc"', {}],
      [['new', 'fresh', '--no-kafka'], 'no template has a feature "kafka"', {}],
      [['new', 'fresh', '--chassis', 'missing.tgz'], '--chassis missing.tgz: no such file', {}],
    ] as const) {
      const prompter = scripted([]);
      let out = '';
      let err = '';
      const code = await runCli(
        [...argv],
        { out: (t) => (out += t), err: (t) => (err += t) },
        { cwd, interactive: true, env, prompter },
      );
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toContain(message);
      expect(prompter.asked, argv.join(' ')).toEqual([]);
      expect(out).toBe('');
    }
    expect(readdirSync(cwd).sort()).toEqual(['taken']);
    expect(readdirSync(join(cwd, 'taken'))).toEqual(['notes.txt']);
  });

  it('never overwrites a file, even with --force', async () => {
    const cwd = freshDir();
    mkdirSync(join(cwd, 'mine'));
    writeFileSync(join(cwd, 'mine', 'README.md'), 'my readme');
    writeFileSync(join(cwd, 'mine', 'notes.txt'), 'mine');
    const result = await run(['new', 'mine', '--force', '--no-install'], { cwd });
    expect(result.code).toBe(2);
    expect(result.err).toContain('already holds README.md: keelson new never overwrites a file');
    expect(readdirSync(join(cwd, 'mine')).sort()).toEqual(['README.md', 'notes.txt']);
    expect(read(join(cwd, 'mine'), 'README.md')).toBe('my readme');
  });

  it('removes what it wrote when the install fails, and only that', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'broken.tgz'), 'not a tarball');
    // Offline: the install fails on the tarball, never waits on the registry.
    const env = { npm_config_offline: 'true' };
    const fresh = await run(['new', 'fresh', '--chassis', 'broken.tgz', '--yes'], { cwd, env });
    expect(fresh.code).toBe(1);
    expect(fresh.err).toContain('npm install failed');
    expect(fresh.err).toContain('removed what it wrote');
    expect(existsSync(join(cwd, 'fresh'))).toBe(false);

    mkdirSync(join(cwd, 'kept'));
    writeFileSync(join(cwd, 'kept', 'notes.txt'), 'mine');
    const forced = await run(['new', 'kept', '--force', '--chassis', 'broken.tgz', '--yes'], { cwd, env });
    expect(forced.code).toBe(1);
    expect(readdirSync(join(cwd, 'kept'))).toEqual(['notes.txt']);
  }, 120_000);

  it('finishes its work when the reader of its output goes away (EPIPE)', async () => {
    const cwd = freshDir();
    const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
    const args = ['--import', 'tsx', bin, 'new', 'piped', '--dir', join(cwd, 'piped'), '--no-install'];
    const child = spawn(process.execPath, args, {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // `keelson new piped | head -0`: the pipe closes before the first line is read.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(existsSync(join(cwd, 'piped', 'src', 'service.ts'))).toBe(true);
    expect(existsSync(join(cwd, 'piped', 'k8s', 'deployment.yaml'))).toBe(true);
  }, 30_000);

  it('refuses unknown templates and features, and switching off a required feature', async () => {
    const cwd = freshDir();
    expect((await run(['new', 'x1', '--template', 'grpc', '--no-install'], { cwd })).err).toContain(
      'unknown template "grpc"',
    );
    expect((await run(['new', 'x2', '--with', 'kafka', '--no-install'], { cwd })).err).toContain(
      'no template has a feature "kafka"',
    );
    expect(
      (await run(['new', 'x4', '-t', 'worker', '--with', 'kafka', '--no-install'], { cwd })).err,
    ).toContain('template "worker" has no feature "kafka"');
    expect(
      (await run(['new', 'x3', '-t', 'worker', '--no-messaging', '--no-install'], { cwd })).err,
    ).toContain('cannot go without its "messaging" feature');
  });
});

describe('keelson add', () => {
  it('adds a route, a consumer and a plugin, each with a test, wired into src/service.ts', async () => {
    const cwd = freshDir();
    await run(['new', 'shop', '--no-install'], { cwd });
    const dir = join(cwd, 'shop');
    const route = await run(['add', 'route', 'widgets'], { cwd: dir });
    expect(route.code).toBe(0);
    const consumer = await run(['add', 'consumer', 'stock-changed'], { cwd: dir });
    expect(consumer.code).toBe(0);
    const plugin = await run(['add', 'plugin', 'audit-trail'], { cwd: dir });
    expect(plugin.code).toBe(0);
    for (const file of [
      'src/routes/widgets.ts',
      'test/widgets.route.test.ts',
      'src/handlers/stock-changed.ts',
      'test/stock-changed.consumer.test.ts',
      'src/plugins/audit-trail.ts',
      'test/audit-trail.plugin.test.ts',
    ])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const service = read(dir, 'src/service.ts');
    expect(service).toContain("import { registerWidgetsRoutes } from './routes/widgets.js';");
    expect(service).toContain('registerWidgetsRoutes(svc);');
    expect(service).toContain('registerStockChangedConsumer(svc);');
    expect(service).toContain('auditTrailPlugin,');
    expect(read(dir, 'src/handlers/stock-changed.ts')).toContain("'stock.changed'");
    expect(read(dir, 'test/widgets.route.test.ts')).toContain('buildShop(');
    expect(read(dir, 'src/routes/widgets.ts')).toContain("summary: 'Reads one widget'");

    const again = await run(['add', 'route', 'widgets'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.err).toContain('already exist');
  });

  it('says where it must run', async () => {
    const result = await run(['add', 'route', 'widgets'], { cwd: freshDir() });
    expect(result.code).toBe(2);
    expect(result.err).toContain('run keelson add in a service created by keelson new');
  });
});

describe('template markers', () => {
  it('keeps the lines of true blocks, drops false ones and every marker line, nests', () => {
    const text = [
      'a',
      '// @@if db',
      'b',
      '# @@if !mq',
      'c',
      '# @@else',
      'd',
      '# @@endif',
      '// @@endif',
      'e __name__',
    ].join('\n');
    expect(renderText(text, { db: true, mq: false }, { __name__: 'svc' }, 't')).toBe('a\nb\nc\ne svc');
    expect(renderText(text, { db: true, mq: true }, { __name__: 'svc' }, 't')).toBe('a\nb\nd\ne svc');
    expect(renderText(text, { db: false, mq: false }, {}, 't')).toBe('a\ne __name__');
    expect(() => renderText('// @@if db\nx', {}, {}, 'f.ts')).toThrow('f.ts:1: @@if without @@endif');
  });
});
