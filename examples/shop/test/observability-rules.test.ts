import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusConfig } from '../src/infra/prometheus-config.js';
import { dashboardQueries, metricNames, RULE_TESTS, RULES, ruleFile } from './support/observability-files.js';

const promtool = (...args: string[]) => spawnSync(inject('promtool'), args, { encoding: 'utf8' });

describe('Prometheus rules (observability/prometheus)', () => {
  it('pass promtool check rules', () => {
    const check = promtool('check', 'rules', RULES);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
  });

  it('pass their unit tests on synthetic series (promtool test rules)', () => {
    const run = promtool('test', 'rules', RULE_TESTS);
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('the unit tests fail when a rule changes (they check values, not presence)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-rules-'));
    writeFileSync(join(dir, 'keelson.rules.yml'), readFileSync(RULES, 'utf8').replace('> 60', '> 600'));
    writeFileSync(join(dir, 'tests.yml'), readFileSync(RULE_TESTS, 'utf8'));
    const run = promtool('test', 'rules', join(dir, 'tests.yml'));
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toContain('KeelsonOutboxBacklogOld');
  });

  it('cover every alert the issue asks for', () => {
    const alerts = ruleFile().groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts.sort()).toEqual([
      'KeelsonCircuitOpen',
      'KeelsonConsumerFailing',
      'KeelsonDeadLettersGrowing',
      'KeelsonInstanceFlapping',
      'KeelsonNotRegistered',
      'KeelsonOutboxBacklogOld',
      'KeelsonOutboxPublishFailing',
      'KeelsonRegistryFailing',
      'KeelsonRetryBudgetExhausted',
      'KeelsonRouteErrorBudgetBurn',
      'KeelsonRouteSlow',
    ]);
    const tested = readFileSync(RULE_TESTS, 'utf8');
    for (const alert of alerts) expect(tested).toContain(`alertname: ${alert}`);
  });
});

describe("demo:infra's Prometheus configuration", () => {
  it('passes promtool check config, rules included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-prometheus-'));
    const targets = [
      { job: 'orders', address: '127.0.0.1:3000' },
      { job: 'inventory', address: '127.0.0.1:3001' },
    ];
    writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig({ rulesFile: RULES, targets }));
    const check = promtool('check', 'config', join(dir, 'prometheus.yml'));
    expect(check.stdout + check.stderr).toContain('SUCCESS: 1 rule files found');
    expect(check.stdout).toContain('SUCCESS: 19 rules found');
    expect(check.status).toBe(0);
    const config = parse(readFileSync(join(dir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.scrape_configs.map((c) => [c.job_name, c.static_configs[0]?.targets])).toEqual([
      ['orders', ['127.0.0.1:3000']],
      ['inventory', ['127.0.0.1:3001']],
    ]);
  });
});

describe('metric names in PromQL', () => {
  it('are found past functions, aggregations, label matchers, ranges and keywords', () => {
    expect(
      metricNames(
        'sum by (job, le) (rate(foo_seconds_bucket{le="0.5", job=~"a|b"}[5m])) / on (job) bar_total > bool 0.5 or baz:ratio offset 5m',
      ),
    ).toEqual(['foo_seconds_bucket', 'bar_total', 'baz:ratio']);
  });

  it('every dashboard has queries, each naming at least one metric', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    expect(queries.filter((q) => metricNames(q.expr).length === 0)).toEqual([]);
  });
});
