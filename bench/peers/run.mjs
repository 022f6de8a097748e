// Keelson among its peers: the same GET /hello JSON route on bare fastify, a Keelson service with
// default settings, NestJS (fastify adapter, logger off) and Moleculer 0.14 (moleculer-web), each in
// its own child process, on one or more Node versions. For each Node: start to first 200 and RSS
// after start (median of --starts cold starts, servers alternating), then alternating autocannon
// rounds over all four.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mean, saveResults } from '../lib/results.mjs';
import { runHelloRounds } from '../lib/rounds.mjs';
import { BenchError, spawnServer, stopServer, stopServers } from '../lib/servers.mjs';
import { ROUND_OPTIONS, ROUND_USAGE, readNumberSetting, readRoundSettings } from '../lib/settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const overhead = join(here, '..', 'http-overhead');
const resultFile = join(here, '..', 'results', 'peers.latest.json');
const FIRST_200_TIMEOUT_MS = 20_000;

const SERVERS = [
  { name: 'bare', label: 'bare fastify', script: join(overhead, 'bare-fastify.mjs') },
  { name: 'keelson', label: 'Keelson (defaults)', script: join(overhead, 'chassis.mjs') },
  { name: 'nest', label: 'NestJS (fastify)', script: join(here, 'nest.mjs') },
  { name: 'moleculer', label: 'Moleculer + web', script: join(here, 'moleculer.mjs') },
];

// Keelson runs with its default settings: the children get no configuration variable from this
// environment, only what a process needs to run. Production asks for a registry choice; `none` (the
// platform routes, as on Kubernetes) registers nowhere, like the other servers.
const serverEnv = {
  ...Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((n) => process.env[n]).map((n) => [n, process.env[n]]),
  ),
  NODE_ENV: 'production',
  REGISTRY_BACKEND: 'none',
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
};

function readSettings() {
  const { values } = parseArgs({
    options: { ...ROUND_OPTIONS, node: { type: 'string' }, starts: { type: 'string' } },
  });
  return {
    ...readRoundSettings(values, [
      'Usage: node peers/run.mjs [options]',
      ...ROUND_USAGE,
      '  --starts <n>       cold starts per server for start time and RSS (BENCH_STARTS, 5)',
      '  --node <list>      comma-separated Node binaries: "current" (this one), a major version',
      "                     taken from the npm registry's node@<major> package, or a path",
      '                     (BENCH_NODE, "current,24")',
    ]),
    starts: readNumberSetting(values, 'starts', 5, 1),
    nodes: (values.node ?? process.env.BENCH_NODE ?? 'current,24').split(',').map((s) => s.trim()),
  };
}

/** The path of the node binary a --node entry names. */
function resolveNode(spec) {
  if (spec === 'current') return process.execPath;
  if (/^\d+$/.test(spec)) {
    return execFileSync(
      'npm',
      ['exec', '--yes', `--package=node@${spec}`, '--call', 'node -p process.execPath'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ).trim();
  }
  return spec;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Resident set size of a process in MB, from /proc (Linux; null elsewhere). */
function rssMb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** GET /hello once; a server that answers anything but the expected body fails the run. */
async function hello(server, port) {
  const response = await fetch(`http://127.0.0.1:${port}/hello`);
  const body = await response.text();
  if (response.status !== 200 || body !== '{"hello":"world"}') {
    throw new BenchError(`${server.label}: GET /hello answered ${response.status} ${body}`);
  }
}

function start(server, node) {
  return spawnServer({
    label: server.label,
    args: [server.script],
    cwd: dirname(server.script),
    env: serverEnv,
    execPath: node,
  });
}

/** One cold start: ms from spawning the process to its first 200 on GET /hello, and RSS then. */
async function coldStart(server, node) {
  const began = performance.now();
  const { child, port } = await start(server, node);
  // The port line comes once the server listens; the first 200 is what a caller waits for.
  for (;;) {
    try {
      await hello(server, port);
      break;
    } catch (error) {
      if (error instanceof BenchError || performance.now() - began > FIRST_200_TIMEOUT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  const ms = performance.now() - began;
  const rss = rssMb(child.pid);
  await stopServer(child);
  return { ms, rss };
}

function aggregate(rounds) {
  const sum = (values) => values.reduce((total, v) => total + v, 0);
  const cpuKnown = rounds.every((r) => r.cpuMicrosPerRequest !== null);
  return {
    reqPerSec: mean(rounds.map((r) => r.reqPerSec)),
    p99Ms: mean(rounds.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: cpuKnown
      ? sum(rounds.map((r) => r.cpuMicrosPerRequest * r.requests)) / sum(rounds.map((r) => r.requests))
      : null,
    errors: sum(rounds.map((r) => r.errors + r.non2xx)),
  };
}

function printTable(rows) {
  const header = ['server', 'req/s', 'ratio', 'CPU µs/req', 'p99 ms', 'start→200 ms', 'RSS MB', 'errors'];
  const fixed = (value, digits) => (value === null ? 'n/a' : value.toFixed(digits));
  const cells = rows.map((r) => [
    r.label,
    fixed(r.reqPerSec, 0),
    fixed(r.ratio, 2),
    fixed(r.cpuMicrosPerRequest, 1),
    fixed(r.p99Ms, 2),
    fixed(r.startMs, 0),
    fixed(r.rssMb, 0),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function runOnNode(spec, settings) {
  const node = resolveNode(spec);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const loadBefore = loadavg();
  process.stdout.write(`\n== node ${version} (${node}), load average ${loadText()}\n`);

  const starts = new Map(SERVERS.map((s) => [s.name, []]));
  for (let i = 1; i <= settings.starts; i++) {
    for (const server of SERVERS) starts.get(server.name).push(await coldStart(server, node));
    process.stdout.write(`cold starts ${i}/${settings.starts} done\n`);
  }

  const running = [];
  for (const server of SERVERS) {
    const { child, port } = await start(server, node);
    await hello(server, port);
    running.push({ ...server, pid: child.pid, port, rounds: [], warmupErrors: 0 });
  }
  await runHelloRounds({
    servers: running,
    settings,
    warmedUp: (server, result) => {
      server.warmupErrors = result.errors + result.non2xx;
    },
  });
  await stopServers();

  const rows = running.map((server) => {
    const cold = starts.get(server.name);
    const rss = cold.map((c) => c.rss);
    return {
      name: server.name,
      label: server.label,
      ...aggregate(server.rounds),
      warmupErrors: server.warmupErrors,
      startMs: median(cold.map((c) => c.ms)),
      rssMb: rss.includes(null) ? null : median(rss),
      starts: cold,
      rounds: server.rounds,
    };
  });
  const bare = rows.find((r) => r.name === 'bare');
  for (const row of rows) row.ratio = row.reqPerSec / bare.reqPerSec;
  printTable(rows);
  process.stdout.write(`load average after: ${loadText()}\n`);
  return {
    node: version,
    execPath: node,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    servers: rows,
  };
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    stopServers().finally(() => process.exit(130));
  });
}

async function main() {
  const settings = readSettings();
  process.stdout.write(
    `peers: GET /hello, ${settings.connections} connections, warm-up ${settings.warmup} s, ` +
      `${settings.rounds} × ${settings.duration} s rounds per server, ${settings.starts} cold starts per server, ` +
      `load generator on node ${process.version}, ${cpus().length} CPUs\n`,
  );
  const runs = [];
  for (const spec of settings.nodes) runs.push(await runOnNode(spec, settings));

  saveResults(resultFile, {
    benchmark: 'peers',
    date: new Date().toISOString(),
    loadGeneratorNode: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    settings,
    runs,
  });
  if (runs.some((run) => run.servers.some((s) => s.errors > 0 || s.warmupErrors > 0))) {
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
