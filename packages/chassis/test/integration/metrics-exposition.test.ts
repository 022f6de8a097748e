import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';

// promtool exits 1 when the text cannot be parsed and 3 when it parses but breaks a naming rule.
const promtool = (text: string) =>
  spawnSync(inject('promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8' });

async function exposition(env: Record<string, string>): Promise<string> {
  const { service, url } = await startTestService({
    env,
    setup(svc) {
      svc.http.get('/items/:id', async () => ({ ok: true }));
      svc.metrics
        .counter({ name: 'orders_created_total', help: 'Orders created.', labelNames: ['channel'] })
        .inc({ channel: 'web' });
      svc.metrics
        .histogram({ name: 'batch_size', help: 'Rows per batch.', buckets: [1, 10, 100] })
        .observe(7);
    },
  });
  try {
    await Promise.all([fetch(`${url}/items/1`), fetch(`${url}/missing`), fetch(`${url}/health/ready`)]);
    return await (await fetch(`${url}/metrics`)).text();
  } finally {
    await service.stop();
  }
}

describe('/metrics exposition (promtool check metrics)', () => {
  it("the chassis' own metrics parse and pass the naming lint", async () => {
    const text = await exposition({ METRICS_RUNTIME: 'false' });
    expect(text).toContain('http_server_request_duration_seconds_bucket');
    expect(text).toContain('orders_created_total{channel="web"} 1');
    const check = promtool(text);
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });

  it('with runtime metrics (the default) it passes with no output at all', async () => {
    const text = await exposition({});
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/^nodejs_active_handles\{type="\w+"\} \d+$/m);
    const check = promtool(text);
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });

  it('promtool rejects a broken exposition (the check can fail)', () => {
    expect(promtool('# TYPE x counter\nx{a="1" 1\n').status).toBe(1);
  });
});
