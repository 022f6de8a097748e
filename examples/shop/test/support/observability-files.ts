import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository's observability folder: Prometheus rules and Grafana dashboards for any Keelson service. */
export const OBSERVABILITY = fileURLToPath(new URL('../../../../observability/', import.meta.url));
export const RULES = `${OBSERVABILITY}prometheus/keelson.rules.yml`;
export const RULE_TESTS = `${OBSERVABILITY}prometheus/keelson.rules.test.yml`;

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

export function ruleFile(): RuleFile {
  return parse(readFileSync(RULES, 'utf8')) as RuleFile;
}

interface Dashboard {
  title: string;
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: unknown }[] };
}

/** Every PromQL query of every dashboard: panel targets and template variable queries. */
export function dashboardQueries(): { where: string; expr: string }[] {
  const dir = `${OBSERVABILITY}grafana/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Dashboard;
      const panels = dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr })),
      );
      const variables = dashboard.templating.list.flatMap((v) => {
        const query = (v.query as { query?: string } | undefined)?.query;
        const metric = query ? /^label_values\(([^,]+),/.exec(query)?.[1] : undefined;
        return metric ? [{ where: `${file}: $${v.name}`, expr: metric }] : [];
      });
      return [...panels, ...variables];
    });
}

const NOT_METRICS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects (functions, labels, keywords and literals removed). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Numbers and durations (offset 5m).
    .replace(/\b\d[\w.]*/g, ' ');
  const names = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    // A name followed by "(" is a function (or an aggregation).
    .filter((m) => !/^\s*\(/.test(bare.slice((m.index ?? 0) + m[0].length)))
    .map((m) => m[0])
    .filter((name) => !NOT_METRICS.has(name.toLowerCase()));
  return [...new Set(names)];
}

/** The sample names a /metrics text exposes, from its TYPE lines (series with no sample yet included). */
export function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_count', '_sum']) names.add(`${name}${suffix}`);
    else names.add(name);
  }
  return names;
}
