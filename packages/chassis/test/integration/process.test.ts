import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../support/child-service.js';

describe('process-level behaviour (child processes, real signals)', () => {
  it('SIGTERM under load: readiness 503 first, in-flight requests complete, nothing fails, exit 0', async () => {
    const svc = await spawnFixture('slow-service.ts', { SLOW_MS: '250', SHUTDOWN_PRE_STOP_DELAY_MS: '1000' });
    const statuses: number[] = [];
    const failures: string[] = [];
    let readyFailedAt = 0;
    let signalledAt = 0;
    let stopSending = false;

    // The load balancer: sends while readiness is green, stops once it sees 503.
    const poller = (async () => {
      for (let i = 0; i < 500 && !readyFailedAt; i++) {
        const status = await fetch(`${svc.url}/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 503) readyFailedAt = performance.now();
        await delay(20);
      }
      stopSending = true;
    })();
    const worker = async () => {
      for (let i = 0; i < 200 && !stopSending; i++) {
        try {
          const response = await fetch(`${svc.url}/slow`);
          statuses.push(response.status);
          await response.arrayBuffer();
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    };
    const workers = Array.from({ length: 20 }, worker);
    await delay(600);
    signalledAt = performance.now();
    svc.child.kill('SIGTERM');
    await Promise.all([poller, ...workers]);
    const { code } = await svc.exit;

    expect(failures).toEqual([]);
    expect(statuses.length).toBeGreaterThan(40);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(readyFailedAt).toBeGreaterThan(signalledAt);
    expect(code).toBe(0);
    const messages = svc.lines.map((l) => l.msg);
    expect(messages.indexOf('service draining')).toBeLessThan(messages.indexOf('service stopped'));
    expect(svc.lines.find((l) => l.msg === 'service stopped')).toMatchObject({ clean: true });
  });

  it('a second signal forces an immediate exit', async () => {
    const svc = await spawnFixture('slow-service.ts', { SLOW_MS: '60000', SHUTDOWN_TIMEOUTS_HTTP: '60000' });
    const pending = fetch(`${svc.url}/slow`).catch(() => undefined);
    await delay(200);
    svc.child.kill('SIGTERM');
    // A repeat within a second (npm forwarding Ctrl-C) is the same request to stop.
    await delay(200);
    svc.child.kill('SIGTERM');
    await delay(1200);
    expect(svc.child.exitCode).toBeNull();
    svc.child.kill('SIGTERM');
    const { code } = await svc.exit;
    expect(code).toBe(143);
    expect(svc.lines.some((l) => String(l.msg).startsWith('second SIGTERM'))).toBe(true);
    await pending;
  });

  it('an uncaught exception is logged with context and ends the process non-zero after draining', async () => {
    const svc = await spawnFixture('slow-service.ts', {});
    expect((await fetch(`${svc.url}/crash`)).status).toBe(200);
    const { code } = await svc.exit;
    expect(code).toBe(1);
    const fatal = svc.lines.find((l) => l.level === 'fatal');
    expect(fatal).toMatchObject({
      origin: 'uncaughtException',
      err: { message: 'crash outside any request' },
    });
    expect(svc.lines.find((l) => l.msg === 'service stopped')).toBeDefined();
  });

  it('an unhandled rejection ends the process non-zero too', async () => {
    const svc = await spawnFixture('slow-service.ts', {});
    await fetch(`${svc.url}/reject`);
    const { code } = await svc.exit;
    expect(code).toBe(1);
    expect(svc.lines.find((l) => l.level === 'fatal')).toMatchObject({ origin: 'unhandledRejection' });
  });

  it('invalid config exits non-zero before listening, naming key, source and expected format', async () => {
    const svc = await spawnFixture(
      'slow-service.ts',
      { HTTP_PORT: 'abc', SLOW_MS: '-5' },
      { waitForListening: false },
    );
    const { code } = await svc.exit;
    expect(code).toBe(78);
    expect(svc.lines).toEqual([]);
    const stderr = svc.stderr();
    expect(stderr).toMatch(/^slow: Invalid configuration \(2 problems\):\n/);
    expect(stderr).toContain(
      'http.port: not an integer; got "abc" (from env HTTP_PORT); expected a port number (0-65535)',
    );
    expect(stderr).toContain('slowMs: must be a positive integer; got "-5" (from env SLOW_MS)');
  });
});
