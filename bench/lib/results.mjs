// Summing up and saving a runner's results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

export const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Writes the report as indented JSON to `file` and prints where it went. */
export function saveResults(file, report) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results: ${relative(process.cwd(), file)}\n`);
}
