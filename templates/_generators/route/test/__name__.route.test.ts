import type { AddressInfo } from 'node:net';
import { LogCapture } from '@keelson/chassis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { __factory__ } from '../src/service.js';

describe('/__name__', () => {
  let svc: Awaited<ReturnType<typeof __factory__>>;
  let url: string;

  beforeAll(async () => {
    svc = await __factory__({
      env: {},
      argv: [],
      handleProcess: false,
      logDestination: new LogCapture(),
      overrides: { http: { host: '127.0.0.1', port: 0 }, registry: { backend: 'none' } },
    });
    await svc.start();
    url = `http://127.0.0.1:${(svc.http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => svc.stop());

  it('answers GET /__name__/:id', async () => {
    const response = await fetch(`${url}/__name__/42`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42' });
  });
});
