import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrometheus } from '../../../../scripts/infra.mjs';
import { startTestService } from '../../src/testing/index.js';
import { freePort } from '../support/ports.js';

const JOB = 'keelson-scrape-test';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus server on loopback, scraping one target every second. */
async function startPrometheus(target: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const binary = await ensurePrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'keelson-prometheus-'));
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { url, stop };
    await delay(100);
  }
  await stop();
  throw new Error(`Prometheus did not become ready:\n${stderr}`);
}

/** An instant query through Prometheus's HTTP API. */
async function query(prometheus: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The single value of a query, once Prometheus has enough samples to compute it (bounded wait). */
async function settledValue(prometheus: string, promql: string): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const [sample] = await query(prometheus, promql);
    const value = Number(sample?.value[1]);
    if (Number.isFinite(value)) return value;
    await delay(500);
  }
  throw new Error(`no value for ${promql} after 20 s`);
}

const seconds = 'http_server_request_duration_seconds';

function startService() {
  return startTestService({
    setup(service) {
      service.http.get('/slow', async () => {
        await delay(200);
        return { ok: true };
      });
      service.http.get('/fast', async () => ({ ok: true }));
    },
  });
}

describe('a real Prometheus server scraping a service', () => {
  let svc: Awaited<ReturnType<typeof startService>>;
  let prometheus: { url: string; stop: () => Promise<void> };
  let target: string;

  beforeAll(async () => {
    svc = await startService();
    target = new URL(svc.url).host;
    prometheus = await startPrometheus(target);
    // Prometheus applies its targets a few seconds after starting: traffic begins after the first
    // scrape, so that the counters' increase is seen. Then about four seconds of it, scraped each second.
    await settledValue(prometheus.url, `up{job="${JOB}"}`);
    const until = performance.now() + 4000;
    const client = (path: string) => async () => {
      while (performance.now() < until) {
        const response = await fetch(`${svc.url}${path}`);
        await response.arrayBuffer();
        expect(response.status).toBe(200);
      }
    };
    await Promise.all([...Array.from({ length: 4 }, client('/slow')), client('/fast')()]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await svc?.service.stop();
  });

  it('the target is up', async () => {
    expect(await settledValue(prometheus.url, `up{job="${JOB}"}`)).toBe(1);
  });

  it('histogram_quantile puts the median of a 200 ms route between 0.1 and 0.25 s', async () => {
    const median = await settledValue(
      prometheus.url,
      `histogram_quantile(0.5, sum by (le) (rate(${seconds}_bucket{route="/slow"}[30s])))`,
    );
    expect(median).toBeGreaterThan(0.1);
    expect(median).toBeLessThanOrEqual(0.25);
    const fast = await settledValue(
      prometheus.url,
      `histogram_quantile(0.5, sum by (le) (rate(${seconds}_bucket{route="/fast"}[30s])))`,
    );
    expect(fast).toBeLessThan(0.1);
  });

  it('rate(_sum) / rate(_count) of the 200 ms route is within 20% of 0.2 s', async () => {
    const mean = await settledValue(
      prometheus.url,
      `sum(rate(${seconds}_sum{route="/slow"}[30s])) / sum(rate(${seconds}_count{route="/slow"}[30s]))`,
    );
    expect(mean).toBeGreaterThanOrEqual(0.16);
    expect(mean).toBeLessThanOrEqual(0.24);
  });

  it('service_info keeps its own labels, and no series had a label renamed by the scrape', async () => {
    const [info, ...more] = await query(prometheus.url, 'service_info');
    expect(more).toEqual([]);
    expect(info?.metric).toMatchObject({
      __name__: 'service_info',
      job: JOB,
      instance: target,
      service_name: 'test-service',
    });
    expect(info?.value[1]).toBe('1');
    expect(await query(prometheus.url, 'count({exported_instance!=""})')).toEqual([]);
    expect(await query(prometheus.url, 'count({exported_job!=""})')).toEqual([]);
  });
});
