import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { startScriptedServer } from '../support/scripted-server.js';

const API_KEY = 'sk_live_7f3a"9\\q-Zx';
const DB_PASSWORD = 'pa:ss/w0rd#42';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl';

const schema = {
  payments: {
    apiKey: {
      doc: 'Payments API key',
      format: String,
      default: '',
      sensitive: true,
      env: 'PAYMENTS_API_KEY',
    },
    databaseUrl: {
      doc: 'Payments database',
      format: String,
      default: '',
      sensitive: true,
      env: 'PAYMENTS_DATABASE_URL',
    },
    region: { doc: 'Payments region', format: String, default: 'eu-1' },
  },
} as const;

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('secrets never reach the logs', () => {
  it('values of sensitive keys are redacted in any object, message or error, at trace level', async () => {
    const { service, url, logs } = await startTestService({
      config: schema,
      env: {
        LOG_LEVEL: 'trace',
        PAYMENTS_API_KEY: API_KEY,
        PAYMENTS_DATABASE_URL: `postgres://payments:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:5432/payments`,
      },
      overrides: { http: { accessLog: true } },
      setup(svc) {
        svc.http.get('/pay', async (request) => {
          const payments = svc.config.get('payments');
          request.log.info({ payments }, 'a whole config section');
          request.log.info({ nested: { list: [payments.apiKey] } }, 'nested');
          request.log.info('the key is %s', payments.apiKey);
          request.log.error({ err: new Error(`refused key ${payments.apiKey}`) }, 'an error with the key');
          request.log.warn({ password: DB_PASSWORD }, 'a password alone');
          return { ok: true };
        });
      },
    });
    running.push(service);
    const response = await fetch(`${url}/pay?access_token=${TOKEN}&my_api_key=k-123456&page=2`);
    expect(response.status).toBe(200);

    const text = logs.raw.join('\n');
    for (const secret of [API_KEY, JSON.stringify(API_KEY).slice(1, -1), DB_PASSWORD, TOKEN, 'k-123456'])
      expect(text).not.toContain(secret);
    // Not everything was thrown away: the lines are there, with the secrets replaced.
    const section = logs.find('a whole config section')[0] as { payments: Record<string, string> };
    expect(section.payments).toEqual({
      apiKey: '[redacted]',
      databaseUrl: '[redacted]',
      region: 'eu-1',
    });
    expect(logs.find('the key is')[0]?.msg).toBe('the key is [redacted]');
    expect(logs.find('request completed')[0]).toMatchObject({
      url: '/pay?access_token=[redacted]&my_api_key=[redacted]&page=2',
      statusCode: 200,
    });
    // The trace-level dump of the configuration at start-up is there and redacted too.
    expect(logs.find('configuration loaded')).toHaveLength(1);
  });

  it('redacts a secret under a field name no redaction path knows, at the default level', async () => {
    const { service, logs } = await startTestService({ config: schema, env: { PAYMENTS_API_KEY: API_KEY } });
    running.push(service);
    service.log.info({ whatever: service.config.get('payments.apiKey') }, 'logged by mistake');
    expect(logs.find('logged by mistake')[0]?.whatever).toBe('[redacted]');
    expect(logs.raw.join('\n')).not.toContain(API_KEY);
  });

  it('credentials in URLs never reach exported spans: server url.query, client url.full', async () => {
    const receiver = await startOtlpReceiver();
    const downstream = await startScriptedServer(() => ({ body: {} }));
    try {
      const { service, url } = await startTestService({
        overrides: {
          tracing: { exporter: 'otlp', otlp: { endpoint: receiver.endpoint }, batch: { delayMs: 50 } },
        },
        setup(svc) {
          svc.http.get('/relay', async () => {
            await svc.clients.http('webhooks').get(`${downstream.url}/in?client_secret=${TOKEN}&n=1`);
            return { ok: true };
          });
        },
      });
      expect((await fetch(`${url}/relay?access_token=${TOKEN}&page=2`)).status).toBe(200);
      await service.stop();
      const server = receiver.spans.find((span) => span.kind === 2);
      const client = receiver.spans.find((span) => span.kind === 3);
      expect(server?.attributes['url.query']).toBe('access_token=[redacted]&page=2');
      expect(client?.attributes['url.full']).toBe(`${downstream.url}/in?client_secret=[redacted]&n=1`);
      expect(JSON.stringify(receiver.spans)).not.toContain(TOKEN);
    } finally {
      await Promise.all([receiver.close(), downstream.close()]);
    }
  });
});
