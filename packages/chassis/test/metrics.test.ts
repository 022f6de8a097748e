import { afterEach, describe, expect, it } from 'vitest';
import { type Service, UNMATCHED_ROUTE } from '../src/index.js';
import { startTestService } from '../src/testing/index.js';
import { freePort } from './support/ports.js';

const running: Pick<Service, 'stop'>[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('metrics', () => {
  it('records request durations by method, route template and status code', async () => {
    const { service, url } = await startTestService({
      setup(svc) {
        svc.http.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      },
    });
    running.push(service);
    await fetch(`${url}/items/1`);
    await fetch(`${url}/items/2`);
    await fetch(`${url}/no/such/path/123`);
    await fetch(`${url}/items/3`, { method: 'BREW' }).catch(() => undefined);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain(
      'http_server_request_duration_seconds_count{method="GET",route="/items/:id",status_code="200"} 2',
    );
    expect(text).toContain(`route="${UNMATCHED_ROUTE}",status_code="404"`);
    expect(text).not.toContain('/no/such/path');
    expect(text).not.toContain('/items/1');
    expect(text).toMatch(/http_server_active_requests 1\n/);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('lets plugins add their own metrics to the service registry', async () => {
    const { service, url } = await startTestService({
      setup(svc) {
        const jobs = svc.metrics.counter({
          name: 'jobs_done_total',
          help: 'Jobs done.',
          labelNames: ['kind'],
        });
        jobs.inc({ kind: 'import' }, 3);
      },
    });
    running.push(service);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('jobs_done_total{kind="import"} 3');
  });

  it('serves metrics on a separate port when configured', async () => {
    const port = await freePort();
    const { service, url } = await startTestService({ overrides: { metrics: { port, host: '127.0.0.1' } } });
    running.push(service);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    const separate = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(separate.status).toBe(200);
    expect(await separate.text()).toContain('service_info{service_name="test-service"');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    await service.stop();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('can leave out runtime metrics and the endpoint', async () => {
    const { service, url } = await startTestService({
      env: { METRICS_RUNTIME: 'false', METRICS_ENABLED: 'false' },
    });
    running.push(service);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect(await service.metrics.text()).not.toContain('process_cpu');
  });
});
