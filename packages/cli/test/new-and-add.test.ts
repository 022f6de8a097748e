import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
function scripted(answers: unknown[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`no scripted answer for "${message}"`);
    return Promise.resolve(answers.shift());
  };
  return {
    asked,
    select: (message) => next(message) as Promise<string>,
    checkbox: (message) => next(message) as Promise<string[]>,
  };
}

async function run(argv: string[], options: { cwd: string; interactive?: boolean; prompter?: Prompter }) {
  let out = '';
  let err = '';
  const code = await runCli(
    argv,
    { out: (t) => (out += t), err: (t) => (err += t) },
    {
      cwd: options.cwd,
      interactive: options.interactive ?? false,
      env: {},
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
    const chassis = join(cwd, 'chassis-build');
    mkdirSync(chassis);
    const result = await run(
      [
        'new',
        'ledger',
        '--template',
        'worker',
        '--no-database',
        '--no-registry',
        '--chassis',
        'chassis-build',
        '--no-install',
        '--yes',
      ],
      { cwd, interactive: true, prompter: scripted([]) },
    );
    expect(result.code).toBe(0);
    const dir = join(cwd, 'ledger');
    expect(JSON.parse(read(dir, 'package.json')).dependencies['@keelson/chassis']).toBe(`file:${chassis}`);
    // No dead code of the features that are off.
    const sources = ['src/service.ts', 'config/production.json', 'docker-compose.yml', '.env.example'].map(
      (f) => (existsSync(join(dir, f)) ? read(dir, f) : ''),
    );
    expect(sources.join('\n')).not.toMatch(/idempotent|postgres|DB_URL|etcd/i);
  });

  it('on a terminal: asks for template, features and package manager', async () => {
    const cwd = freshDir();
    const prompter = scripted(['worker', ['messaging', 'database'], 'npm']);
    const result = await run(['new', 'billing', '--no-install'], { cwd, interactive: true, prompter });
    expect(result.code).toBe(0);
    expect(prompter.asked).toEqual(['Template', 'Features', 'Package manager']);
    expect(result.out).toContain('from the worker template (database, messaging)');
    expect(read(join(cwd, 'billing'), 'src/service.ts')).not.toMatch(/registry/);
  });

  it('refuses invalid names, naming the rule', async () => {
    const cwd = freshDir();
    for (const name of ['Order Service', 'node_modules', '.hidden', '1st', 'a'.repeat(70)]) {
      const result = await run(['new', name, '--no-install'], { cwd });
      expect(result.code, name).toBe(1);
      expect(result.err, name).toContain(`invalid service name "${name}"`);
    }
    expect(parseServiceName('@acme/order-service')).toEqual({
      packageName: '@acme/order-service',
      kebab: 'order-service',
      pascal: 'OrderService',
      camel: 'orderService',
      snake: 'order_service',
    });
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

  it('refuses unknown templates and features, and switching off a required feature', async () => {
    const cwd = freshDir();
    expect((await run(['new', 'x1', '--template', 'grpc', '--no-install'], { cwd })).err).toContain(
      'unknown template "grpc"',
    );
    expect((await run(['new', 'x2', '--with', 'kafka', '--no-install'], { cwd })).err).toContain(
      'no feature "kafka"',
    );
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
