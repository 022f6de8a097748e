import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
    const { LocalRegistry } = await import('../../src/registry/local-registry.js');
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
