// HTTP overhead of the chassis: the same route on bare fastify and on a default chassis service,
// each in its own child process, loaded by the same autocannon settings from this process.
// Rounds alternate between the two servers so drifts of a shared machine hit both alike.
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Latencies } from '../lib/latencies.mjs';
import { mean, saveResults } from '../lib/results.mjs';
import { runAlternatingRounds } from '../lib/rounds.mjs';
import { BenchError, spawnServer, stopServers } from '../lib/servers.mjs';
import { ROUND_OPTIONS, ROUND_USAGE, readNumberSetting, readRoundSettings } from '../lib/settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const resultFile = join(resultsDir, 'http-overhead.latest.json');
const TARGET_RATIO = 0.9;

// Chassis config variables in our environment reach the chassis child (that is how a feature is
// switched off to attribute its cost); they are named in the output so no run passes for defaults.
const CHASSIS_VARIABLE = /^(HTTP|METRICS|HEALTH|LOG|SERVICE|SHUTDOWN|TRACING)_/;
const chassisOverrides = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => CHASSIS_VARIABLE.test(name) && name !== 'HTTP_HOST' && name !== 'HTTP_PORT',
  ),
);
const overridden = Object.keys(chassisOverrides).length > 0;

const SERVERS = [
  { name: 'bare', script: 'bare-fastify.mjs', label: 'bare fastify' },
  {
    name: 'chassis',
    script: 'chassis.mjs',
    label: overridden ? 'chassis (overrides)' : 'chassis (defaults)',
  },
];

// Flags win over BENCH_* variables, which win over the defaults.
function readSettings() {
  const { values } = parseArgs({
    options: {
      ...ROUND_OPTIONS,
      pipelining: { type: 'string' },
      profile: { type: 'boolean', default: false },
    },
  });
  return {
    ...readRoundSettings(values, [
      'Usage: node http-overhead/run.mjs [options]',
      ...ROUND_USAGE,
      '  --pipelining <n>   requests in flight per connection (BENCH_PIPELINING, 1)',
      '  --profile          run both servers under node --cpu-prof (results/profiles/)',
    ]),
    pipelining: readNumberSetting(values, 'pipelining', 1, 1),
    profile: values.profile,
  };
}

/** Starts one server in a child process and resolves with its port once it is listening. */
function startServer(server, profile) {
  const nodeArgs = profile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(resultsDir, 'profiles')}`,
        `--cpu-prof-name=${server.name}.cpuprofile`,
      ]
    : [];
  return spawnServer({
    label: server.label,
    args: [...nodeArgs, join(here, server.script)],
    cwd: here,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      REGISTRY_BACKEND: 'none',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    },
  });
}

let activeRun;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    activeRun?.stop();
    stopServers().finally(() => process.exit(130));
  });
}

/** Checks the route answers the expected body before any load, so a broken server fails loudly. */
async function checkRoute(server, port) {
  const response = await fetch(`http://127.0.0.1:${port}/hello`);
  const body = await response.text();
  if (response.status !== 200 || body !== '{"hello":"world"}') {
    throw new BenchError(`${server.label}: GET /hello answered ${response.status} ${body}`);
  }
}

function load(port, settings, seconds) {
  // After a signal the servers are going away: start nothing new and let the exit happen.
  if (interrupted) return new Promise(() => {});
  const latencies = new Latencies();
  return new Promise((resolve, reject) => {
    activeRun = autocannon(
      {
        url: `http://127.0.0.1:${port}/hello`,
        connections: settings.connections,
        pipelining: settings.pipelining,
        duration: seconds,
      },
      (error, result) => {
        activeRun = undefined;
        if (error) return reject(error);
        const [p50, p99] = latencies.percentiles(50, 99);
        resolve({
          reqPerSec: result.requests.average,
          requests: result.requests.total,
          p50Ms: p50,
          p99Ms: p99,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
        });
      },
    );
    activeRun.on('response', (_client, _status, _bytes, responseTime) => latencies.record(responseTime));
  });
}

const sum = (values) => values.reduce((total, v) => total + v, 0);

function aggregate(rounds) {
  return {
    reqPerSec: mean(rounds.map((r) => r.reqPerSec)),
    p50Ms: mean(rounds.map((r) => r.p50Ms)),
    p99Ms: mean(rounds.map((r) => r.p99Ms)),
    errors: sum(rounds.map((r) => r.errors)),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    cpuMicrosPerRequest: rounds.every((r) => r.serverCpuMicros !== null)
      ? sum(rounds.map((r) => r.serverCpuMicros)) / sum(rounds.map((r) => r.requests))
      : null,
    rounds,
  };
}

function printTable(rows) {
  const header = ['server', 'req/s (mean)', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'errors', 'non-2xx'];
  const cells = rows.map((r) => [
    r.label,
    r.reqPerSec.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.cpuMicrosPerRequest === null ? 'n/a' : r.cpuMicrosPerRequest.toFixed(1),
    String(r.errors),
    String(r.non2xx),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

async function main() {
  const settings = readSettings();
  const perServer = settings.warmup + settings.rounds * settings.duration;
  process.stdout.write(
    `http-overhead: GET /hello, ${settings.connections} connections, pipelining ${settings.pipelining}, ` +
      `warm-up ${settings.warmup} s, ${settings.rounds} × ${settings.duration} s rounds per server ` +
      `(~${2 * perServer} s of load), node ${process.version}, ${cpus().length} CPUs\n`,
  );
  if (overridden) {
    const list = Object.entries(chassisOverrides).map(([name, value]) => `${name}=${value}`);
    process.stdout.write(`chassis overrides: ${list.join(' ')}\n`);
  }

  const running = [];
  for (const server of SERVERS) {
    const { child, port } = await startServer(server, settings.profile);
    await checkRoute(server, port);
    running.push({ ...server, pid: child.pid, port, rounds: [], warmupErrors: 0 });
  }

  await runAlternatingRounds({
    servers: running,
    settings,
    load: (server, seconds) => load(server.port, settings, seconds),
    latencyText: (summary) => `p50 ${summary.p50Ms.toFixed(2)} ms  p99 ${summary.p99Ms.toFixed(2)} ms`,
    warmedUp: (server, result) => {
      server.warmupErrors = result.errors + result.non2xx;
      process.stdout.write(`warm-up ${server.label}: ${result.reqPerSec.toFixed(0)} req/s\n`);
    },
    measured: (server, summary, serverCpuMicros) => {
      summary.serverCpuMicros = serverCpuMicros;
      server.rounds.push(summary);
    },
  });

  await stopServers();

  const results = Object.fromEntries(
    running.map((s) => [s.name, { label: s.label, ...aggregate(s.rounds), warmupErrors: s.warmupErrors }]),
  );
  const { bare, chassis } = results;
  const ratio = {
    reqPerSec: chassis.reqPerSec / bare.reqPerSec,
    p99: chassis.p99Ms / bare.p99Ms,
    cpuPerRequest:
      chassis.cpuMicrosPerRequest === null || bare.cpuMicrosPerRequest === null
        ? null
        : chassis.cpuMicrosPerRequest / bare.cpuMicrosPerRequest,
  };

  printTable([bare, chassis]);
  process.stdout.write(`\nratio chassis/bare p99: ${ratio.p99.toFixed(2)} (lower is better)\n`);
  if (ratio.cpuPerRequest !== null) {
    process.stdout.write(
      `ratio chassis/bare server CPU per request: ${ratio.cpuPerRequest.toFixed(2)} (lower is better)\n`,
    );
  }
  process.stdout.write(
    `ratio chassis/bare req/s: ${ratio.reqPerSec.toFixed(2)} (target ≥ ${TARGET_RATIO})\n`,
  );

  saveResults(resultFile, {
    benchmark: 'http-overhead',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    settings,
    chassisOverrides,
    servers: results,
    ratio,
    target: { reqPerSecRatio: TARGET_RATIO, met: ratio.reqPerSec >= TARGET_RATIO },
  });

  const failed = running.some(
    (s) => s.warmupErrors > 0 || s.rounds.some((r) => r.errors > 0 || r.non2xx > 0 || r.timeouts > 0),
  );
  if (failed) {
    process.stderr.write('some requests failed: the figures above are not comparable\n');
    process.exitCode = 1;
  }
}

main().catch(async (error) => {
  if (interrupted) return;
  process.stderr.write(`${error instanceof BenchError ? error.message : (error.stack ?? error)}\n`);
  await stopServers();
  process.exit(1);
});
