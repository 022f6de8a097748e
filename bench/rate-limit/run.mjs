// Cost of the rate limiter: the same chassis service with and without `rateLimit.enabled`, with a
// limit so high it never refuses, so the figures show what counting costs per request. Each
// server runs in its own child process (this script, with --serve); autocannon loads them from
// this process in alternating rounds, so the drifts of a shared machine hit both alike.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const script = fileURLToPath(import.meta.url);
const resultFile = join(here, '..', 'results', 'rate-limit.latest.json');
const START_TIMEOUT_MS = 20_000;
const NEVER_REACHED = 1_000_000_000;

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** The child: one chassis service answering GET /hello, with or without the rate limiter. */
async function serve(limited) {
  const chassis = await import('@keelson/chassis');
  // Until the chassis lists the plugin among its built-ins, it is passed in; once it does, config
  // alone switches it on (passing it as well would register it twice).
  const builtIn = 'rateLimitPlugin' in chassis;
  const plugins = builtIn
    ? []
    : [(await import('../../packages/chassis/dist/rate-limit/index.js')).rateLimitPlugin()];
  const svc = await chassis.createService({
    name: 'bench-rate-limit',
    env: { NODE_ENV: 'production' },
    argv: [],
    configDir: '/nonexistent',
    plugins,
    // Only the port line goes to stdout; the log would be noise to the runner.
    logDestination: new Writable({ write: (_c, _e, done) => done() }),
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      rateLimit: { enabled: limited, max: NEVER_REACHED, windowMs: 60_000 },
    },
  });
  svc.http.get('/hello', async () => ({ hello: 'world' }));
  await svc.start();
  process.stdout.write(`${JSON.stringify({ port: svc.http.server.address().port })}\n`);
  // The runner holds our stdin open; when it closes, the runner is gone.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

function readSettings() {
  if (values.help) {
    process.stdout.write(
      [
        'Usage: node rate-limit/run.mjs [options]',
        '  --duration <s>     length of one measured round per server (BENCH_DURATION, 5)',
        '  --rounds <n>       measured rounds per server (BENCH_ROUNDS, 3)',
        '  --warmup <s>       warm-up per server before the first round (BENCH_WARMUP, 3)',
        '  --connections <n>  concurrent connections (BENCH_CONNECTIONS, 50)',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const number = (name, fallback, min) => {
    const raw = values[name] ?? process.env[`BENCH_${name.toUpperCase()}`] ?? String(fallback);
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) {
      process.stderr.write(`--${name} must be a number >= ${min}, got "${raw}"\n`);
      process.exit(2);
    }
    return value;
  };
  return {
    duration: number('duration', 5, 1),
    rounds: number('rounds', 3, 1),
    warmup: number('warmup', 3, 0),
    connections: number('connections', 50, 1),
  };
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts a server child and resolves with its port once it listens. */
function startServer(limited) {
  const child = spawn(process.execPath, [script, '--serve', limited ? 'limited' : 'plain'], {
    cwd: here,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server not listening after ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    let pending = '';
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      const line = pending.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, port: JSON.parse(line).port });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}${stderr ? `:\n${stderr}` : ''}`));
    });
  });
}

/**
 * CPU time (user + system) a process has used, in µs, from /proc (Linux; undefined elsewhere):
 * steadier than req/s on a shared machine, where the other tenants move throughput about.
 */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function load(port, settings, seconds) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}/hello`, connections: settings.connections, duration: seconds },
      (error, result) =>
        error
          ? reject(error)
          : resolve({
              reqPerSec: result.requests.average,
              requests: result.requests.total,
              p99Ms: result.latency.p99,
              errors: result.errors + result.timeouts,
              non2xx: result.non2xx,
            }),
    );
  });
}

async function main() {
  const settings = readSettings();
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
      const { child, port } = await startServer(server.limited);
      Object.assign(server, { child, port });
      const check = await fetch(`http://127.0.0.1:${port}/hello`);
      await check.arrayBuffer();
      const limitHeader = check.headers.get('ratelimit-limit');
      if (check.status !== 200 || (limitHeader !== null) !== server.limited)
        throw new Error(
          `${server.label}: GET /hello answered ${check.status}, RateLimit-Limit ${limitHeader}`,
        );
    }
    if (settings.warmup > 0) for (const server of servers) await load(server.port, settings, settings.warmup);
    for (let round = 1; round <= settings.rounds; round++) {
      for (const server of servers) {
        const cpuBefore = cpuMicros(server.child.pid);
        const result = await load(server.port, settings, settings.duration);
        const cpuAfter = cpuMicros(server.child.pid);
        result.cpuMicrosPerRequest =
          cpuBefore === undefined || cpuAfter === undefined ? null : (cpuAfter - cpuBefore) / result.requests;
        server.rounds.push(result);
        process.stdout.write(
          `round ${round}/${settings.rounds} ${server.label.padEnd(22)} ${result.reqPerSec.toFixed(0).padStart(7)} req/s` +
            `  p99 ${result.p99Ms} ms` +
            (result.cpuMicrosPerRequest === null
              ? ''
              : `  server CPU ${result.cpuMicrosPerRequest.toFixed(1)} µs/req`) +
            `  errors ${result.errors}  non-2xx ${result.non2xx}\n`,
        );
      }
    }
  } finally {
    for (const child of children) child.stdin.end();
  }

  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
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
  mkdirSync(dirname(resultFile), { recursive: true });
  writeFileSync(
    resultFile,
    `${JSON.stringify(
      {
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
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`results: ${relative(process.cwd(), resultFile)}\n`);
  if (plain.failed + limited.failed > 0) {
    process.stderr.write('some requests failed (or were limited): the figures are not comparable\n');
    process.exitCode = 1;
  }
}

if (values.serve) await serve(values.serve === 'limited');
else await main();
