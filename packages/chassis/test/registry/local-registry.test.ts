import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalRegistry } from '../../src/registry/local-registry.js';
import { defaultLocalRegistryDir } from '../../src/registry/local-registry-dir.js';
import { startTestService } from '../../src/testing/index.js';
import { describeRegistryBehaviour } from '../support/registry-behaviour.js';

const root = mkdtempSync(join(tmpdir(), 'keelson-registry-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let namespaces = 0;

describeRegistryBehaviour({
  backend: 'local',
  settings: () => ({ backend: 'local', local: { dir: join(root, `ns-${++namespaces}`) } }),
  env: (settings) => ({
    REGISTRY_BACKEND: 'local',
    REGISTRY_LOCAL_DIR: (settings.local as { dir: string }).dir,
    REGISTRY_TTL_MS: String(settings.ttlMs),
    REGISTRY_HEARTBEAT_MS: String(settings.heartbeatMs),
  }),
  loseRecord: async (settings, instance) => {
    const dir = join((settings.local as { dir: string }).dir, instance.service);
    for (const file of readdirSync(dir)) rmSync(join(dir, file));
  },
});

describe('local registry files', () => {
  it('ignores and removes records of processes that no longer exist and unreadable files', async () => {
    const dir = join(root, 'stale');
    const registry = new LocalRegistry({ dir, ttlMs: 60_000 });
    const instance = {
      service: 'ghost',
      id: 'ghost-1',
      url: 'http://127.0.0.1:1',
      address: '127.0.0.1',
      port: 1,
      version: '1.0.0',
      state: 'READY' as const,
      healthUrl: '',
      metricsUrl: '',
      tags: [],
      metadata: {},
      registeredAt: new Date().toISOString(),
    };
    await registry.register(instance);
    expect(await registry.instances('ghost')).toHaveLength(1);

    // The same record, written by a process that is gone (pid 2^22 + 1 is above Linux's pid_max).
    const file = join(dir, 'ghost', 'ghost-1.json');
    const record = {
      instance,
      host: (await import('node:os')).hostname(),
      pid: 4_194_305,
      seenAt: Date.now(),
    };
    writeFileSync(file, JSON.stringify(record));
    writeFileSync(join(dir, 'ghost', 'broken.json'), '{ not json');
    expect(await registry.instances('ghost')).toEqual([]);
    expect(readdirSync(join(dir, 'ghost'))).toEqual(['broken.json']);
  });
});

const INSTANCE = {
  service: 'private',
  id: 'private-1',
  url: 'http://127.0.0.1:1',
  address: '127.0.0.1',
  port: 1,
  version: '1.0.0',
  state: 'READY' as const,
  healthUrl: '',
  metricsUrl: '',
  tags: [],
  metadata: {},
  registeredAt: new Date().toISOString(),
};
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('local registry directory', () => {
  it("defaults to the user's runtime directory, else the cache directory, never the shared temp directory", () => {
    expect(defaultLocalRegistryDir({ XDG_RUNTIME_DIR: '/run/user/1000' }, '/home/ann')).toBe(
      '/run/user/1000/keelson-registry',
    );
    expect(defaultLocalRegistryDir({ XDG_CACHE_HOME: '/home/ann/.cache-x' }, '/home/ann')).toBe(
      '/home/ann/.cache-x/keelson-registry',
    );
    expect(defaultLocalRegistryDir({}, '/home/ann')).toBe('/home/ann/.cache/keelson-registry');
    expect(defaultLocalRegistryDir()).not.toContain(tmpdir());
  });

  it('is created private to the user: the directory, its folders and records', async () => {
    const dir = join(root, 'fresh', 'registry');
    const registry = new LocalRegistry({ dir, ttlMs: 60_000 });
    await registry.register(INSTANCE);
    expect(mode(dir)).toBe('700');
    expect(mode(join(dir, 'private'))).toBe('700');
    expect(mode(join(dir, 'private', 'private-1.json'))).toBe('600');
    expect(statSync(dir).uid).toBe(process.getuid?.());
  });

  it('refuses a directory that group or others may write to, naming it and the fix', async () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(() => new LocalRegistry({ dir, ttlMs: 60_000 })).toThrow(
      `registry.local.dir ${dir} is writable by group or others (mode 0777)`,
    );
    chmodSync(dir, 0o770);
    expect(() => new LocalRegistry({ dir, ttlMs: 60_000 })).toThrow(/mode 0770.*chmod 700/);
    // A service with that directory does not start.
    await expect(
      startTestService({ overrides: { registry: { backend: 'local', local: { dir } } } }),
    ).rejects.toThrow(`registry.local.dir ${dir} is writable by group or others`);
    chmodSync(dir, 0o700);
    expect(() => new LocalRegistry({ dir, ttlMs: 60_000 })).not.toThrow();
  });

  it('refuses a directory owned by another user', () => {
    // Root makes one for another user; any other user has one already: the root directory.
    let dir = '/';
    if (process.getuid?.() === 0) {
      dir = join(root, 'someone-else');
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, 65534, 65534);
    }
    const owner = statSync(dir).uid;
    expect(owner).not.toBe(process.getuid?.());
    expect(() => new LocalRegistry({ dir, ttlMs: 60_000 })).toThrow(
      `registry.local.dir ${dir} is owned by uid ${owner}, not by this user`,
    );
  });
});
