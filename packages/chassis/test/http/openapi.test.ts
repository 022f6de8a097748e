import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { SignJWT } from 'jose';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createService, ProblemError, type Service } from '../../src/index.js';
import { LogCapture, startTestService } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'keelson-openapi-'));
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, SECRET);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const token = (scope: string) =>
  new SignJWT({ sub: 'user-1', scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://id.example.test')
    .setAudience('orders-api')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

/** Every capability that adds errors on: access tokens, rate limiting, load shedding. */
const everyCapability = {
  accessTokens: {
    enabled: true,
    secretFile,
    algorithms: ['HS256'],
    issuer: 'https://id.example.test',
    audience: ['orders-api'],
  },
  rateLimit: { enabled: true, max: 1000 },
  // In flight only: validating a document holds the event loop longer than the default delay limit.
  loadShedding: { enabled: true, maxInFlight: 1, maxEventLoopDelayMs: 0 },
  http: { bodyLimit: 100 },
};

const order = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

let release: () => void = () => {};

/** The routes of a small orders API, as a service declares them. */
function addRoutes(svc: Service) {
  svc.http.get(
    '/orders/:id',
    {
      config: { auth: { scopes: ['orders:read'] } },
      schema: {
        summary: 'Reads an order',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 8 } } },
        response: {
          200: order,
          404: { description: 'No such order', type: 'object', properties: { title: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (id === 'thrown') throw new ProblemError({ status: 404, detail: 'No order thrown' });
      if (id === 'sent') return reply.code(404).send({ title: 'Not Found' });
      return { id };
    },
  );
  svc.http.post(
    '/orders',
    {
      config: { auth: { scopes: ['orders:write'] } },
      schema: {
        summary: 'Places an order',
        operationId: 'placeOrder',
        body: {
          type: 'object',
          required: ['sku'],
          additionalProperties: false,
          properties: { sku: { type: 'string', minLength: 3 } },
        },
        response: { 201: order },
      },
    },
    async (_request, reply) => reply.code(201).send({ id: '1' }),
  );
  svc.http.get(
    '/catalog',
    {
      config: { auth: false, rateLimit: { max: 1, timeWindow: 60_000 } },
      schema: { summary: 'The catalog' },
    },
    async () => ({ items: [] }),
  );
  svc.http.get('/slow', { config: { auth: false }, schema: { summary: 'Takes its time' } }, async () => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return { done: true };
  });
}

type Operation = OpenAPIV3_1.OperationObject;
type Doc = OpenAPIV3_1.Document;

const operation = (doc: Doc, method: string, path: string) =>
  (doc.paths?.[path] as Record<string, Operation> | undefined)?.[method] as Operation;

/** The response is documented for the operation: its status, its media type, its headers. */
function expectDocumented(doc: Doc, method: string, path: string, response: Response) {
  const documented = operation(doc, method, path).responses?.[String(response.status)] as
    | OpenAPIV3_1.ResponseObject
    | undefined;
  expect(documented, `${method} ${path} ${response.status} is documented`).toBeDefined();
  const mediaType = response.headers.get('content-type')?.split(';')[0];
  expect(Object.keys(documented?.content ?? {})).toEqual([mediaType]);
  for (const header of Object.keys(documented?.headers ?? {}))
    expect(response.headers.get(header), `${header} of ${response.status}`).not.toBeNull();
}

const statuses = (doc: Doc, method: string, path: string) =>
  Object.keys(operation(doc, method, path).responses ?? {});

describe('the OpenAPI document of a service with every capability on', () => {
  let service: Service;
  let url: string;
  let doc: Doc;
  const call = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init);

  beforeAll(async () => {
    const started = await startTestService({ overrides: everyCapability, setup: addRoutes });
    service = started.service;
    url = started.url;
    doc = (await (await call('/openapi.json')).json()) as Doc;
  });
  afterAll(() => service.stop());

  it('is valid OpenAPI 3.1, served as the service builds it', async () => {
    const validation = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(validation.errors).toBeUndefined();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(await service.openapi.document());
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(doc.info).toEqual({ title: 'test-service', version: '0.0.0' });
  });

  it('has the shared Problem schema, and documents every error of an operation with it', () => {
    expect(doc.components?.schemas?.Problem).toMatchObject({
      type: 'object',
      required: ['type', 'title', 'status'],
      properties: { requestId: { type: 'string' }, errors: { type: 'array' } },
    });
    expect(statuses(doc, 'post', '/orders')).toEqual([
      '201',
      '400',
      '401',
      '403',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
    expect(statuses(doc, 'get', '/orders/{id}')).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '429',
      '500',
      '503',
    ]);
    // No schema to validate, no body, public: the server's 500, the limiter, shedding and the handler timeout.
    expect(statuses(doc, 'get', '/catalog')).toEqual(['200', '429', '500', '503']);
    const placeOrder = operation(doc, 'post', '/orders').responses ?? {};
    for (const status of ['400', '401', '403', '413', '415', '429', '500', '503'])
      expect(placeOrder[status]).toMatchObject({
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      });
    expect((placeOrder['503'] as OpenAPIV3_1.ResponseObject).description).toBe(
      'The request did not complete within 30000 ms and was cancelled. The service is overloaded and sheds load: it refuses some requests before reading them.',
    );
    expect(placeOrder['413']).toMatchObject({ description: 'The body is larger than 100 bytes.' });
  });

  it('declares bearer JWT security, with the scopes each route needs; public routes need none', () => {
    expect(doc.components?.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    expect(doc.security).toBeUndefined();
    expect(operation(doc, 'post', '/orders').security).toEqual([{ bearerAuth: ['orders:write'] }]);
    expect(operation(doc, 'get', '/orders/{id}').security).toEqual([{ bearerAuth: ['orders:read'] }]);
    expect(operation(doc, 'get', '/catalog').security).toEqual([]);
  });

  it('gives every operation a unique operationId: its own, or one from method and path', () => {
    const ids = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item as Record<string, Operation>).map((op) => op.operationId),
    );
    expect(ids).toEqual(['getOrdersById', 'placeOrder', 'getCatalog', 'getSlow']);
  });

  it('leaves the operational routes out by default', () => {
    expect(Object.keys(doc.paths ?? {})).toEqual(['/orders/{id}', '/orders', '/catalog', '/slow']);
  });

  it('documents what the server answers a malformed, too large or unsupported body', async () => {
    const headers = {
      authorization: `Bearer ${await token('orders:write')}`,
      'content-type': 'application/json',
    };
    const cases = [
      { body: '{"sku":', status: 400 },
      { body: '{"sku":"a"}', status: 400 },
      { body: JSON.stringify({ sku: 'x'.repeat(200) }), status: 413 },
      { body: 'sku=abc', status: 415, type: 'application/x-www-form-urlencoded' },
    ];
    for (const { body, status, type } of cases) {
      const response = await call('/orders', {
        method: 'POST',
        headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
        body,
      });
      expect(response.status, body).toBe(status);
      expectDocumented(doc, 'post', '/orders', response);
    }
    const invalid = await call('/orders', { method: 'POST', headers, body: '{"sku":"a"}' });
    expect(((await invalid.json()) as { errors: unknown[] }).errors).toEqual([
      { in: 'body', pointer: '/sku', message: 'must NOT have fewer than 3 characters' },
    ]);
    const placed = await call('/orders', { method: 'POST', headers, body: '{"sku":"abc"}' });
    expect(placed.status).toBe(201);
    expectDocumented(doc, 'post', '/orders', placed);
  });

  it('documents what the server answers a missing token and a token without the scope', async () => {
    const missing = await call('/orders/1');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expectDocumented(doc, 'get', '/orders/{id}', missing);
    const forbidden = await call('/orders/1', {
      headers: { authorization: `Bearer ${await token('orders:write')}` },
    });
    expect(forbidden.status).toBe(403);
    expectDocumented(doc, 'get', '/orders/{id}', forbidden);
  });

  it("serves a route's own error status as it is documented: problem+json, thrown or sent", async () => {
    const authorization = `Bearer ${await token('orders:read')}`;
    expect(operation(doc, 'get', '/orders/{id}').responses?.['404']).toEqual({
      description: 'No such order',
      content: {
        'application/problem+json': { schema: { type: 'object', properties: { title: { type: 'string' } } } },
      },
    });
    for (const id of ['thrown', 'sent']) {
      const response = await call(`/orders/${id}`, { headers: { authorization } });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expectDocumented(doc, 'get', '/orders/{id}', response);
    }
    const found = await call('/orders/42', { headers: { authorization } });
    expect(found.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expectDocumented(doc, 'get', '/orders/{id}', found);
  });

  it('documents what the server answers over the rate limit', async () => {
    expect((await call('/catalog')).status).toBe(200);
    const limited = await call('/catalog');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expectDocumented(doc, 'get', '/catalog', limited);
  });

  it('documents what the server answers while it sheds load', async () => {
    const held = call('/slow');
    let shed: Response | undefined;
    // The slow request holds the only slot once it is in flight; a bounded wait for that.
    for (let i = 0; i < 100 && shed?.status !== 503; i++) {
      shed = await call('/orders', { method: 'POST' });
      if (shed.status !== 503) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    release();
    expect((await held).status).toBe(200);
    expect(shed?.status).toBe(503);
    expectDocumented(doc, 'post', '/orders', shed as Response);
  });
});

describe('the OpenAPI document', () => {
  const build = async (
    overrides: Record<string, unknown> = {},
    configDir = '/nonexistent/keelson-config',
  ) => {
    const svc = await createService({
      name: 'orders',
      version: '2.1.0',
      env: {},
      argv: [],
      configDir,
      handleProcess: false,
      logDestination: new LogCapture(),
      overrides: { registry: { backend: 'none' }, ...overrides },
    });
    addRoutes(svc as unknown as Service);
    return svc;
  };
  const documentOf = async (overrides: Record<string, unknown> = {}, configDir?: string) => {
    const svc = await build(overrides, configDir);
    const document = await svc.openapi.document();
    await svc.stop();
    return document;
  };

  it('is the same on every build, operationIds included, and is built without listening', async () => {
    const svc = await build({ ...everyCapability, http: { ...everyCapability.http, port: 1 } });
    const first = await svc.openapi.document();
    expect(svc.http.server.listening).toBe(false);
    await svc.stop();
    const second = await documentOf({ ...everyCapability, http: { ...everyCapability.http, port: 1 } });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('without access tokens, requires nothing of callers', async () => {
    const doc = await documentOf();
    expect(doc.security).toEqual([]);
    expect(doc.components?.securitySchemes).toBeUndefined();
    expect(operation(doc, 'get', '/orders/{id}').security).toBeUndefined();
    expect(statuses(doc, 'get', '/orders/{id}')).toEqual(['200', '400', '404', '500', '503']);
  });

  it('documents the handler timeout only while there is one', async () => {
    const doc = await documentOf({ http: { handlerTimeoutMs: 0 } });
    expect(statuses(doc, 'get', '/catalog')).toEqual(['200', '500']);
  });

  it('describes the operational routes with their real answers when asked to', async () => {
    const doc = await documentOf({ http: { docs: { operationalRoutes: 'describe' } } });
    const validation = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(validation.errors).toBeUndefined();
    expect(Object.keys(doc.paths ?? {})).toEqual([
      '/openapi.json',
      '/docs',
      '/metrics',
      '/health/live',
      '/health/startup',
      '/health/ready',
      '/info',
      '/orders/{id}',
      '/orders',
      '/catalog',
      '/slow',
    ]);
    const ready = operation(doc, 'get', '/health/ready').responses ?? {};
    for (const status of ['200', '503'])
      expect(ready[status]).toMatchObject({
        content: {
          'application/health+json': { schema: { required: expect.arrayContaining(['status', 'checks']) } },
        },
      });
    expect(operation(doc, 'get', '/docs').responses?.['200']).toMatchObject({ content: { 'text/html': {} } });
    expect(operation(doc, 'get', '/health/ready').operationId).toBe('getHealthReady');
  });

  it('serves what it documents for an operational route', async () => {
    const { service, url } = await startTestService({
      overrides: { http: { docs: { operationalRoutes: 'describe' } } },
    });
    try {
      const doc = (await (await fetch(`${url}/openapi.json`)).json()) as Doc;
      for (const path of ['/health/ready', '/health/live', '/info', '/openapi.json', '/docs'])
        expectDocumented(doc, 'get', path, await fetch(`${url}${path}`));
    } finally {
      await service.stop();
    }
  });

  it('takes its servers from http.docs.servers and its info from the package beside config/', async () => {
    const project = join(dir, 'orders');
    mkdirSync(join(project, 'config'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: '@acme/orders', description: 'Takes orders', license: 'Apache-2.0' }),
    );
    const doc = await documentOf(
      { http: { docs: { servers: ['https://api.example.com/orders', '/'] } } },
      join(project, 'config'),
    );
    expect(doc.servers).toEqual([{ url: 'https://api.example.com/orders' }, { url: '/' }]);
    // A server's path is a base before the routes, which stay as the service serves them.
    expect(Object.keys(doc.paths ?? {})).toContain('/orders');
    expect(doc.info).toEqual({
      title: 'orders',
      version: '2.1.0',
      description: 'Takes orders',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    });
  });

  it('refuses a server that is neither a URL nor a path, naming the key', async () => {
    const error = await build({ http: { docs: { servers: ['api.example.com'] } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).violations).toEqual([
      expect.objectContaining({
        key: 'http.docs.servers',
        problem: expect.stringContaining(
          '"api.example.com" is neither an http(s) URL nor a path starting with /',
        ),
      }),
    ]);
  });

  it("refuses a route's operationId that another route already has, naming both", async () => {
    const svc = await build();
    expect(() =>
      svc.http.get('/orders-again/:id', { schema: { operationId: 'placeOrder' } }, async () => ({})),
    ).toThrow('Route GET /orders-again/:id: operationId "placeOrder" is already the id of POST /orders');
    await svc.stop();
  });

  it('is still built when it is not served', async () => {
    const { service, url } = await startTestService({
      env: { HTTP_DOCS_ENABLED: 'false' },
      setup: addRoutes,
    });
    try {
      expect((await fetch(`${url}/openapi.json`)).status).toBe(404);
      expect(Object.keys((await service.openapi.document()).paths ?? {})).toContain('/orders');
    } finally {
      await service.stop();
    }
  });
});
