import { startTestService } from '@keelson/chassis/testing';
import { describe, expect, it } from 'vitest';
import { __nameCamel__Plugin } from '../src/plugins/__name__.js';

describe('__name__ plugin', () => {
  it('reports healthy once the service started', async () => {
    const { service, url } = await startTestService({ plugins: [__nameCamel__Plugin] });
    try {
      const body = (await (await fetch(`${url}/health/ready`)).json()) as { checks: Record<string, unknown> };
      expect(body.checks['__name__']).toBeDefined();
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
