// Cost of the rate limiter: the same chassis service with and without `rateLimit.enabled`, with a
// limit so high it never refuses, so the figures show what counting costs per request. Each
// server runs in its own child process (this script, with --serve); autocannon loads them from
// this process in alternating rounds, so the drifts of a shared machine hit both alike.
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mean, saveResults } from '../lib/results.mjs';
import { runHelloRounds } from '../lib/rounds.mjs';
import { serveForRunner } from '../lib/server-child.mjs';
import { spawnServer, stopServers } from '../lib/servers.mjs';
import { ROUND_OPTIONS, ROUND_USAGE, readRoundSettings } from '../lib/settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const script = fileURLToPath(import.meta.url);
const resultFile = join(here, '..', 'results', 'rate-limit.latest.json');
const NEVER_REACHED = 1_000_000_000;

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    ...ROUND_OPTIONS,
  },
});

/** The child: one chassis service answering GET /hello, with or without the rate limiter. */
async function serve(limited) {
  const { createService } = await import('@keelson/chassis');
  const svc = await createService({
    name: 'bench-rate-limit',
    env: { NODE_ENV: 'production', REGISTRY_BACKEND: 'none' },
    argv: [],
    configDir: '/nonexistent',
    // Only the port line goes to stdout; the log would be noise to the runner.
    logDestination: new Writable({ write: (_c, _e, done) => done() }),
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      rateLimit: { enabled: limited, max: NEVER_REACHED, windowMs: 60_000 },
    },
  });
  svc.http.get('/hello', async () => ({ hello: 'world' }));
  await svc.start();
  // SIGTERM and SIGINT stay the chassis's own (a graceful stop); the port line has no `level`,
  // so the runner tells it from the log lines around it.
  serveForRunner(svc.http.server.address().port);
}

async function main() {
  const settings = readRoundSettings(values, ['Usage: node rate-limit/run.mjs [options]', ...ROUND_USAGE]);
  process.stdout.write(
    `rate-limit: GET /hello, ${settings.connections} connections, warm-up ${settings.warmup} s, ` +
      `${settings.rounds} × ${settings.duration} s rounds per server, node ${process.version}, ${cpus().length} CPUs\n`,
  );
  const servers = [
    { name: 'plain', label: 'chassis, no rate limit', limited: false, rounds: [] },
    { name: 'limited', label: 'chassis, rate limit on', limited: true, rounds: [] },
  ];
  try {
    for (const server of servers) {
      const { child, port } = await spawnServer({
        label: server.label,
        args: [script, '--serve', server.name],
        cwd: here,
      });
      Object.assign(server, { pid: child.pid, port });
      const check = await fetch(`http://127.0.0.1:${port}/hello`);
      await check.arrayBuffer();
      const limitHeader = check.headers.get('ratelimit-limit');
      if (check.status !== 200 || (limitHeader !== null) !== server.limited)
        throw new Error(
          `${server.label}: GET /hello answered ${check.status}, RateLimit-Limit ${limitHeader}`,
        );
    }
    await runHelloRounds({ servers, settings });
  } finally {
    await stopServers();
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [plain, limited] = servers.map((s) => ({
    label: s.label,
    reqPerSec: mean(s.rounds.map((r) => r.reqPerSec)),
    p99Ms: mean(s.rounds.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: s.rounds.every((r) => r.cpuMicrosPerRequest !== null)
      ? mean(s.rounds.map((r) => r.cpuMicrosPerRequest))
      : null,
    failed: s.rounds.reduce((n, r) => n + r.errors + r.non2xx, 0),
    rounds: s.rounds,
  }));
  // Each round's pair ran back to back: the median of their ratios shrugs off a noisy round.
  const ratio = median(plain.rounds.map((r, i) => limited.rounds[i].reqPerSec / r.reqPerSec));
  const cpuRatio =
    plain.cpuMicrosPerRequest && limited.cpuMicrosPerRequest
      ? limited.cpuMicrosPerRequest / plain.cpuMicrosPerRequest
      : null;
  process.stdout.write(
    `\n${plain.label}: ${plain.reqPerSec.toFixed(0)} req/s (mean)\n${limited.label}: ${limited.reqPerSec.toFixed(0)} req/s (mean)\n` +
      `ratio limited/plain req/s: ${ratio.toFixed(3)} (median of the rounds' ratios)\n` +
      (cpuRatio === null
        ? ''
        : `ratio limited/plain server CPU per request: ${cpuRatio.toFixed(3)} (lower is better)\n`),
  );
  saveResults(resultFile, {
    benchmark: 'rate-limit',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    settings,
    servers: { plain, limited },
    ratio: {
      reqPerSec: Number(ratio.toFixed(3)),
      cpuPerRequest: cpuRatio === null ? null : Number(cpuRatio.toFixed(3)),
    },
  });
  if (plain.failed + limited.failed > 0) {
    process.stderr.write('some requests failed (or were limited): the figures are not comparable\n');
    process.exitCode = 1;
  }
}

if (values.serve) await serve(values.serve === 'limited');
else await main();
