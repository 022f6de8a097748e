import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// What `npm create keelson@latest <args>` runs: this package's bin with the arguments.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'create-keelson-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function create(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: packageDir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_user_agent: 'npm/11.0.0 node/v20' },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('create-keelson', () => {
  it('is keelson new: makes the service it is asked for', () => {
    const dir = join(root, 'order-service');
    const result = create(dir, '--template', 'worker', '--no-install');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('Creating order-service from the worker template');
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('order-service');
    expect(existsSync(join(dir, 'src', 'handlers', 'item-created.ts'))).toBe(true);
  }, 60_000);

  it("prints keelson new's help, and calls a usage mistake exit 2", () => {
    const help = create('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: keelson new <name\|path>/);
    const mistake = create(join(root, 'x'), '--template', 'grpc');
    expect(mistake.code).toBe(2);
    expect(mistake.err).toContain('unknown template "grpc"');
  }, 60_000);
});
