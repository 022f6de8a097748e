import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const manifest = require.resolve('@redocly/cli/package.json');
const bin = join(dirname(manifest), (require(manifest) as { bin: { redocly: string } }).bin.redocly);

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { severity: string; ruleId: string; message: string; location: { pointer: string }[] }[];
}

/**
 * Lints an OpenAPI document with Redocly's recommended ruleset: the counts, and each problem as
 * `severity rule pointer: message`.
 */
export function redoclyLint(file: string): { errors: number; warnings: number; problems: string[] } {
  let output: string;
  try {
    output = execFileSync(
      process.execPath,
      [bin, 'lint', '--extends', 'recommended', '--format', 'json', file],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (error) {
    // Exit code 1 when a rule reports an error; the report is on stdout all the same.
    output = (error as { stdout: string }).stdout;
  }
  const report = JSON.parse(output) as LintReport;
  return {
    errors: report.totals.errors,
    warnings: report.totals.warnings,
    problems: report.problems.map(
      (p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`,
    ),
  };
}
