// Cost of the chassis HTTP client against raw undici, in the same process and run:
// 1. throughput: the same loopback GET through undici directly and through svc.clients.http()
//    with every policy on (deadline, retry, bulkhead, breaker, attempt timeout), metrics and trace
//    headers, in alternating rounds;
// 2. the policy stack alone around an empty async function, in ns per call.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createService } from '@keelson/chassis';
import { Agent } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const THROUGHPUT_TARGET = 0.85;
const STACK_TARGET_NS = 1000;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '3' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
    concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '16' },
    calls: { type: 'string', default: process.env.BENCH_CALLS ?? '200000' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const calls = Number(values.calls);

const child = spawn(process.execPath, [join(here, 'target-server.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  child.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port));
  child.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
});
const origin = `http://127.0.0.1:${port}`;

const agent = new Agent({ keepAliveTimeout: 4000 });
const raw = async () => {
  const res = await agent.request({ origin, path: '/stock/1', method: 'GET' });
  await res.body.text();
};

const discard = new Writable({ write: (_c, _e, done) => done() });
const svc = await createService({
  name: 'bench-client',
  env: {},
  argv: [],
  configDir: '/nonexistent',
  handleProcess: false,
  logDestination: discard,
  clients: { target: { baseUrl: origin } },
  overrides: {
    http: { host: '127.0.0.1', port: 0 },
    clients: { target: { bulkhead: { maxConcurrent: 64 } } },
  },
});
const client = svc.clients.http('target');
const viaChassis = async () => {
  await client.get('/stock/1');
};

/** Calls per second of `fn` with `concurrency` loops for `seconds`. */
async function throughput(fn) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return done / seconds;
}

// Warm both paths (connections, JIT) before measuring.
await throughput.call(null, raw);
await throughput.call(null, viaChassis);

const rawRates = [];
const chassisRates = [];
for (let round = 0; round < rounds; round++) {
  rawRates.push(await throughput(raw));
  chassisRates.push(await throughput(viaChassis));
  console.log(
    `round ${round + 1}: raw undici ${rawRates.at(-1).toFixed(0)}/s, chassis client ${chassisRates.at(-1).toFixed(0)}/s`,
  );
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = median(chassisRates) / median(rawRates);

// The policy stack alone (deadline, retry, bulkhead, breaker, attempt timeout) around an attempt
// that answers at once, against calling that attempt directly.
const { ClientPolicies } = await import(
  new URL('../../packages/chassis/dist/resilience/client-policies.js', import.meta.url).href
);
const policies = new ClientPolicies(svc.config.get('clients.target'));
const answer = {
  status: 200,
  headers: {},
  body: undefined,
  retryable: false,
  retryAfterMs: undefined,
  attempt: 0,
};
const attempt = async () => answer;
const call = { client: 'target', method: 'GET', path: '/stock/1', idempotent: true };
const empty = () => attempt(0, undefined);
const stacked = () => policies.execute(call, attempt);
async function nsPerCall(fn) {
  for (let i = 0; i < 10_000; i++) await fn();
  const began = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  return Number(process.hrtime.bigint() - began) / calls;
}
const baseNs = await nsPerCall(empty);
const stackNs = await nsPerCall(stacked);
const overheadNs = stackNs - baseNs;

await svc.stop();
await agent.close();
child.kill('SIGTERM');

const result = {
  date: new Date().toISOString(),
  node: process.version,
  settings: { seconds, rounds, concurrency, calls },
  throughput: {
    rawPerSecond: Math.round(median(rawRates)),
    chassisPerSecond: Math.round(median(chassisRates)),
    ratio: Number(ratio.toFixed(3)),
    target: THROUGHPUT_TARGET,
    met: ratio >= THROUGHPUT_TARGET,
  },
  policyStack: {
    emptyCallNs: Math.round(baseNs),
    stackedCallNs: Math.round(stackNs),
    overheadNs: Math.round(overheadNs),
    targetNs: STACK_TARGET_NS,
    met: overheadNs <= STACK_TARGET_NS,
  },
};
console.log(
  `\nthroughput: chassis/raw = ${ratio.toFixed(3)} (target ≥ ${THROUGHPUT_TARGET}: ${result.throughput.met ? 'met' : 'NOT met'})`,
);
console.log(
  `policy stack: ${overheadNs.toFixed(0)} ns per call over an empty async call (target ≤ ${STACK_TARGET_NS} ns: ${result.policyStack.met ? 'met' : 'NOT met'})`,
);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'policy-overhead.latest.json'), `${JSON.stringify(result, null, 2)}\n`);
