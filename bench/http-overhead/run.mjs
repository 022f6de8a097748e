// HTTP overhead of the chassis: the same route on bare fastify and on a default chassis service,
// each in its own child process, loaded by the same autocannon settings from this process.
// Rounds alternate between the two servers so drifts of a shared machine hit both alike.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const resultFile = join(resultsDir, 'http-overhead.latest.json');
const TARGET_RATIO = 0.9;
const START_TIMEOUT_MS = 20_000;

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
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: node http-overhead/run.mjs [options]',
        '  --duration <s>     length of one measured round per server (BENCH_DURATION, 5)',
        '  --rounds <n>       measured rounds per server (BENCH_ROUNDS, 3)',
        '  --warmup <s>       warm-up per server before the first round (BENCH_WARMUP, 3)',
        '  --connections <n>  concurrent connections (BENCH_CONNECTIONS, 50)',
        '  --pipelining <n>   requests in flight per connection (BENCH_PIPELINING, 1)',
        '  --profile          run both servers under node --cpu-prof (results/profiles/)',
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
    pipelining: number('pipelining', 1, 1),
    profile: values.profile,
  };
}

/** A failure the runner reports in one line: the stack would only point into the runner. */
class BenchError extends Error {}

const children = new Set();

/** Starts one server in a child process and resolves with its port once it is listening. */
function startServer(server, profile) {
  const nodeArgs = profile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(resultsDir, 'profiles')}`,
        `--cpu-prof-name=${server.name}.cpuprofile`,
      ]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, join(here, server.script)], {
    cwd: here,
    // The child's stdin stays open as a lifeline: it exits when this process goes away.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));

  // stderr only matters when something fails: keep its tail, not all of it.
  let stderrTail = '';
  child.stderr.on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });

  return new Promise((resolve, reject) => {
    let pending = '';
    let found = false;
    const fail = (message) => {
      if (found) return;
      found = true;
      clearTimeout(timer);
      reject(new BenchError(`${server.label}: ${message}${stderrTail ? `\n${stderrTail}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    // The chassis logs JSON lines around the port line; once the port is known the rest of stdout
    // is read and dropped so the pipe never fills and nothing accumulates.
    child.stdout.on('data', (chunk) => {
      if (found) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = (lines.pop() ?? '').slice(-65_536);
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        let parsed;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof parsed.port === 'number' && parsed.level === undefined) {
          found = true;
          pending = '';
          clearTimeout(timer);
          resolve({ child, port: parsed.port });
          return;
        }
      }
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
  });
}

/** Stops the children gracefully (so profiles get written), then forcefully. */
async function stopServers() {
  const exits = [...children].map(
    (child) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  );
  await Promise.all(exits);
}

// Last resort for any path that exits without stopping them.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

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

/**
 * Response times in ms at full hrtime precision: autocannon's own histogram keeps whole
 * milliseconds, too coarse to compare a p99 of a few ms.
 */
class Latencies {
  #values = new Float64Array(1 << 16);
  #count = 0;

  record(ms) {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  /** Nearest-rank percentiles of everything recorded. */
  percentiles(...ps) {
    const sorted = this.#values.subarray(0, this.#count).sort();
    return ps.map((p) =>
      sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)],
    );
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

/**
 * CPU time (user + system) a process has used, in µs, from /proc (Linux; undefined elsewhere).
 * Unlike req/s it barely moves when a shared machine lends the core to someone else, so CPU per
 * request is the steadier measure of overhead on a noisy host.
 */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Clock ticks of USER_HZ, 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
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

  const labelWidth = Math.max(...SERVERS.map((s) => s.label.length));
  const running = [];
  for (const server of SERVERS) {
    const { child, port } = await startServer(server, settings.profile);
    await checkRoute(server, port);
    running.push({ ...server, pid: child.pid, port, rounds: [], warmupErrors: 0 });
  }

  if (settings.warmup > 0) {
    for (const server of running) {
      const result = await load(server.port, settings, settings.warmup);
      server.warmupErrors = result.errors + result.non2xx;
      process.stdout.write(`warm-up ${server.label}: ${result.reqPerSec.toFixed(0)} req/s\n`);
    }
  }

  for (let round = 1; round <= settings.rounds; round++) {
    for (const server of running) {
      const cpuBefore = cpuMicros(server.pid);
      const summary = await load(server.port, settings, settings.duration);
      const cpuAfter = cpuMicros(server.pid);
      summary.serverCpuMicros =
        cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore;
      server.rounds.push(summary);
      process.stdout.write(
        `round ${round}/${settings.rounds} ${server.label.padEnd(labelWidth)} ${summary.reqPerSec.toFixed(0).padStart(7)} req/s` +
          `  p50 ${summary.p50Ms.toFixed(2)} ms  p99 ${summary.p99Ms.toFixed(2)} ms` +
          (summary.serverCpuMicros === null
            ? ''
            : `  server CPU ${(summary.serverCpuMicros / summary.requests).toFixed(1)} µs/req`) +
          `  errors ${summary.errors}  non-2xx ${summary.non2xx}\n`,
      );
    }
  }

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

  mkdirSync(resultsDir, { recursive: true });
  const report = {
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
  };
  writeFileSync(resultFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results: ${relative(process.cwd(), resultFile)}\n`);

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
