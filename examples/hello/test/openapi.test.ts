import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LogCapture } from '@keelson/chassis/testing';
import { afterAll, expect, it } from 'vitest';
import { createHelloService } from '../src/hello-service.js';

const dir = mkdtempSync(join(tmpdir(), 'hello-openapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Redocly's recommended ruleset on a document file: its JSON report. */
function redoclyLint(file: string): {
  totals: { errors: number };
  problems: { ruleId: string; message: string }[];
} {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@redocly/cli/package.json');
  const bin = join(dirname(manifest), (require(manifest) as { bin: { redocly: string } }).bin.redocly);
  const args = [bin, 'lint', '--extends', 'recommended', '--format', 'json', file];
  try {
    return JSON.parse(
      execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  } catch (error) {
    // Exit code 1 when a rule reports an error; the report is on stdout all the same.
    return JSON.parse((error as { stdout: string }).stdout);
  }
}

it("has an OpenAPI document that passes Redocly's recommended rules with no error", async () => {
  const svc = await createHelloService({
    env: {},
    argv: [],
    handleProcess: false,
    logDestination: new LogCapture(),
  });
  const document = await svc.openapi.document();
  await svc.stop();
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(document));
  const report = redoclyLint(file);
  expect(report.problems.filter((p) => (p as { severity?: string }).severity === 'error')).toEqual([]);
  expect(report.totals.errors).toBe(0);
  expect(Object.keys(document.paths ?? {})).toEqual([
    '/hello/{name}',
    '/greetings',
    '/greetings/{name}/count',
  ]);
});
