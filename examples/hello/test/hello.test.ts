import type { AddressInfo } from 'node:net';
import { LogCapture } from '@keelson/chassis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHelloService } from '../src/hello-service.js';

describe('hello service', () => {
  let svc: Awaited<ReturnType<typeof createHelloService>>;
  let url: string;

  beforeAll(async () => {
    svc = await createHelloService({
      env: { GREETING: 'Ahoy' },
      argv: [],
      handleProcess: false,
      logDestination: new LogCapture(),
      overrides: { http: { port: 0 } },
    });
    await svc.start();
    url = `http://127.0.0.1:${(svc.http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => svc.stop());

  it('greets with the configured word', async () => {
    const response = await fetch(`${url}/hello/Ada`);
    expect(await response.json()).toEqual({ message: 'Ahoy, Ada!' });
  });

  it('rejects a name that is too long with a problem', async () => {
    const response = await fetch(`${url}/hello/${'x'.repeat(65)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('records a greeting, and its consumer counts the published event', async () => {
    const posted = await fetch(`${url}/greetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Grace' }),
    });
    expect(posted.status).toBe(202);
    let count = 0;
    for (let i = 0; i < 200 && count === 0; i++) {
      count = ((await (await fetch(`${url}/greetings/Grace/count`)).json()) as { count: number }).count;
      if (count === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(count).toBe(1);
  });

  it('is ready and documents its route', async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/hello/{name}');
  });
});
