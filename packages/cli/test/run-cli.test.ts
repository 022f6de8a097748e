import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestService } from '@keelson/chassis/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('keelson', () => {
  it('prints help by default and with --help', async () => {
    expect((await run()).out).toContain('Usage: keelson <command>');
    expect(await run('--help')).toMatchObject({ code: 0 });
  });

  it('prints the complete help of every command, as keelson help <command> and <command> --help', async () => {
    for (const command of ['new', 'add', 'config', 'doctor', 'services', 'version']) {
      const viaHelp = await run('help', command);
      const viaFlag = await run(command, '--help');
      const viaShort = await run(command, '-h');
      expect(viaHelp, command).toMatchObject({ code: 0, err: '' });
      expect(viaHelp.out, command).toMatch(new RegExp(`^Usage: keelson ${command}`));
      expect(viaFlag, command).toEqual(viaHelp);
      expect(viaShort, command).toEqual(viaHelp);
    }
    expect((await run('config', 'explain', '--help')).out).toBe((await run('help', 'config')).out);
    for (const command of ['new', 'add', 'doctor', 'services'])
      expect((await run('help', command)).out, command).toMatch(/-h, --help/);
  });

  it('calls usage mistakes exit 2, naming the mistake', async () => {
    expect(await run('help', 'frobnicate')).toMatchObject({ code: 2 });
    expect((await run('config')).err).toContain('keelson config needs a subcommand: explain');
    expect((await run('config', 'show')).code).toBe(2);
    expect((await run('config', 'explain', '--http.port', '1')).err).toContain('service flags go after --');
    expect((await run('new', '--nope')).code).toBe(2);
    expect((await run('version', 'extra')).code).toBe(2);
  });

  it('prints its version', async () => {
    expect((await run('--version')).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('names an unknown command and exits 2', async () => {
    const result = await run('frobnicate');
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown command "frobnicate"');
  });
});

describe('keelson services', () => {
  it('lists the instances of the local registry, as a table and as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-cli-registry-'));
    const flags = ['--registry.backend', 'local', '--registry.local.dir', dir];
    try {
      expect((await run('services', ...flags)).out).toBe('no instances registered\n');
      const { service: svc } = await startTestService({
        name: 'inventory',
        overrides: { registry: { backend: 'local', local: { dir } } },
      });
      try {
        // Registration is written right after READY, without holding up start().
        let table = await run('services', ...flags);
        for (let i = 0; i < 40 && table.out.startsWith('no instances'); i++) {
          await delay(25);
          table = await run('services', ...flags);
        }
        expect(table.code).toBe(0);
        const [header, row] = table.out.trimEnd().split('\n');
        expect(header).toMatch(/^SERVICE\s+INSTANCE\s+STATE\s+URL\s+VERSION$/);
        expect(row).toContain(`inventory  ${svc.instanceId}  READY  http://127.0.0.1:`);
        const json = JSON.parse((await run('services', '--json', ...flags)).out) as { id: string }[];
        expect(json.map((i) => i.id)).toEqual([svc.instanceId]);
      } finally {
        await svc.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong with the registry settings', async () => {
    const result = await run('services', '--registry.backend', 'zookeeper');
    expect(result.code).toBe(1);
    expect(result.err).toContain('registry.backend');
  });
});
