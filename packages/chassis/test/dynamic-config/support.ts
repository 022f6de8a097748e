import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh config directory holding `default.json`; removed by `remove()`. */
export function tempConfigDir(initial: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-dynamic-config-'));
  const write = (values: Record<string, unknown> | string, name = 'default.json') =>
    writeFileSync(join(dir, name), typeof values === 'string' ? values : JSON.stringify(values));
  write(initial);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
