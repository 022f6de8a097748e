import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../support/child-service.js';

const FIXTURE = '../exceptions/fixtures/crashing-service.ts';

describe('exception tracking: process-level errors (child processes)', () => {
  it('reports an uncaught exception with its fingerprint before the service drains and exits', async () => {
    const svc = await spawnFixture(FIXTURE, { EXCEPTIONS_ENABLED: 'true', REGISTRY_BACKEND: 'none' });
    expect((await fetch(`${svc.url}/crash`)).status).toBe(200);
    const { code } = await svc.exit;
    expect(code).toBe(1);

    const reported = svc.lines.findIndex((l) => String(l.msg).startsWith('unhandled error in process'));
    expect(reported).toBeGreaterThanOrEqual(0);
    expect(svc.lines[reported]).toMatchObject({
      level: 'error',
      plugin: 'exceptions',
      source: 'process',
      origin: 'uncaughtException',
      errorName: 'Error',
      err: { message: 'ledger 42 is corrupt' },
    });
    expect(svc.lines[reported]?.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    const frames = svc.lines[reported]?.frames as string[] | undefined;
    expect(frames?.[0]).toMatch(/crashing-service\.ts:/);
    // Reported first, then the fatal line, the drain and the exit. Times, not line order: pino's
    // fatal line is flushed synchronously and may overtake a line still being written.
    const at = (prefix: string) =>
      Date.parse(String(svc.lines.find((l) => String(l.msg).startsWith(prefix))?.time));
    expect(at('unhandled error in process')).toBeLessThanOrEqual(at('fatal uncaughtException'));
    expect(at('unhandled error in process')).toBeLessThanOrEqual(at('service draining'));
    expect(svc.lines.map((l) => l.msg)).toContain('service stopped');
  });

  it('reports an unhandled rejection too', async () => {
    const svc = await spawnFixture(FIXTURE, { EXCEPTIONS_ENABLED: 'true', REGISTRY_BACKEND: 'none' });
    await fetch(`${svc.url}/reject`);
    const { code } = await svc.exit;
    expect(code).toBe(1);
    expect(svc.lines.find((l) => String(l.msg).startsWith('unhandled error in process'))).toMatchObject({
      origin: 'unhandledRejection',
      err: { message: 'nobody awaits reconciliation 7' },
    });
  });
});
