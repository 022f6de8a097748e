/** A service Prometheus scrapes: its name becomes the `job` label the rules and dashboards group by. */
export interface ScrapeTarget {
  job: string;
  /** host:port of the service's /metrics. */
  address: string;
}

/** prometheus.yml for the shop: Keelson's rules, one job per service, a short interval for a demo. */
export function prometheusConfig(options: { rulesFile: string; targets: readonly ScrapeTarget[] }): string {
  const jobs = options.targets.map(
    (t) =>
      `  - job_name: ${t.job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['${t.address}']\n`,
  );
  return [
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 5s',
    'rule_files:',
    `  - ${JSON.stringify(options.rulesFile)}`,
    'scrape_configs:',
    ...jobs,
  ].join('\n');
}
