import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, ProblemError, type Service } from '../src/index.js';
import { startTestService } from '../src/testing/index.js';

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(options: Parameters<typeof startTestService>[0] = {}) {
  const started = await startTestService({
    ...options,
    setup(service) {
      service.http.post(
        '/orders',
        {
          schema: {
            body: {
              type: 'object',
              required: ['sku', 'quantity'],
              additionalProperties: false,
              properties: {
                sku: { type: 'string', minLength: 3 },
                quantity: { type: 'integer', minimum: 1 },
              },
            },
          },
        },
        async (_request, reply) => reply.code(201).send({ ok: true }),
      );
      service.http.get('/boom', async () => {
        throw new Error('database password is hunter2');
      });
      service.http.get('/teapot', async () => {
        throw new ProblemError({
          status: 418,
          title: 'I am a teapot',
          detail: 'Short and stout',
          extensions: { brew: 'tea' },
        });
      });
      service.http.get('/who', async (request) => {
        request.log.info('handling who');
        return { id: request.id };
      });
    },
  });
  running.push(started.service);
  return started;
}

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  return (await response.json()) as Record<string, unknown>;
}

describe('request ids', () => {
  it('keeps a valid inbound x-request-id, echoes it and logs it on every line of the request', async () => {
    const { url, logs } = await start();
    const response = await fetch(`${url}/who`, { headers: { 'x-request-id': 'abc-123.def' } });
    expect(response.headers.get('x-request-id')).toBe('abc-123.def');
    expect(await response.json()).toEqual({ id: 'abc-123.def' });
    expect(logs.find('handling who')[0]).toMatchObject({ requestId: 'abc-123.def' });
  });

  it('replaces a malformed or oversized id with a fresh one', async () => {
    const { url } = await start();
    for (const bad of ['has space', 'x'.repeat(129), 'new\u00e9line', '']) {
      const response = await fetch(`${url}/who`, { headers: { 'x-request-id': bad } });
      const id = response.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('access log', () => {
  it('writes one line per completed request when http.accessLog is on', async () => {
    const { url, logs } = await start({ env: { HTTP_ACCESS_LOG: 'true' } });
    await fetch(`${url}/who`, { headers: { 'x-request-id': 'acc-1' } });
    expect(logs.find('request completed')).toEqual([
      expect.objectContaining({ requestId: 'acc-1', method: 'GET', route: '/who', statusCode: 200 }),
    ]);
  });

  it('is off by default', async () => {
    const { url, logs } = await start();
    await fetch(`${url}/who`);
    expect(logs.find('request completed')).toEqual([]);
  });
});

describe('problem+json errors', () => {
  it('lists every failing field of a validation error', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'x', quantity: 0 }),
    });
    expect(response.status).toBe(400);
    const body = await problemOf(response);
    expect(body).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      instance: '/orders',
    });
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'body', pointer: '/sku' }),
        expect.objectContaining({ in: 'body', pointer: '/quantity' }),
      ]),
    );
    const missing = await problemOf(
      await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    );
    expect((missing.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      '/quantity',
      '/sku',
    ]);
  });

  it('answers malformed JSON, wrong media types and oversized bodies with 4xx problems', async () => {
    const { url } = await start({ overrides: { http: { bodyLimit: 64 } } });
    const post = (body: string, type = 'application/json') =>
      fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': type }, body });
    const malformed = await post('{"sku": ');
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).status).toBe(400);
    const wrongType = await post('sku=abc', 'application/x-www-form-urlencoded');
    expect(wrongType.status).toBe(415);
    await problemOf(wrongType);
    const tooLarge = await post(JSON.stringify({ sku: 'x'.repeat(100), quantity: 1 }));
    expect(tooLarge.status).toBe(413);
    await problemOf(tooLarge);
  });

  it('answers unknown routes with 404 and wrong methods with 405 and Allow', async () => {
    const { url } = await start();
    const notFound = await fetch(`${url}/nothing/here?x=1`);
    expect(notFound.status).toBe(404);
    expect(await problemOf(notFound)).toMatchObject({
      status: 404,
      title: 'Not Found',
      instance: '/nothing/here?x=1',
    });
    const wrongMethod = await fetch(`${url}/orders`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await problemOf(wrongMethod);
  });

  it('hides internals of a 500 outside development, logging it with the request id', async () => {
    const { url, logs } = await start({ env: { NODE_ENV: 'production' } });
    const response = await fetch(`${url}/boom`, { headers: { 'x-request-id': 'req-500' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('stack');
    expect(JSON.parse(text)).toMatchObject({ status: 500, requestId: 'req-500' });
    const logged = logs.find('request failed')[0];
    expect(logged).toMatchObject({ requestId: 'req-500', level: 'error' });
    expect(JSON.stringify(logged)).toContain('hunter2');
  });

  it('shows the stack of a 500 in development', async () => {
    const { url } = await start({ env: { NODE_ENV: 'development' } });
    const body = await problemOf(await fetch(`${url}/boom`));
    expect(body.detail).toBe('database password is hunter2');
    expect(Array.isArray(body.stack)).toBe(true);
  });

  it('renders a thrown ProblemError as given', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/teapot`);
    expect(response.status).toBe(418);
    expect(await problemOf(response)).toMatchObject({
      title: 'I am a teapot',
      detail: 'Short and stout',
      brew: 'tea',
    });
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3 document built from the route schemas, and the docs UI', async () => {
    const { url } = await start();
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const validation = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(validation.errors).toBeUndefined();
    expect(validation.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('test-service');
    expect(doc.paths['/orders']?.post?.requestBody).toBeDefined();
    // Operational routes are left out unless http.docs.operationalRoutes is "describe".
    expect(Object.keys(doc.paths)).not.toContain('/health/ready');
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
    const ui = await fetch(`${url}/docs/`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
  });

  it('can be switched off', async () => {
    const { url } = await start({ env: { HTTP_DOCS_ENABLED: 'false' } });
    expect((await fetch(`${url}/openapi.json`)).status).toBe(404);
  });
});
