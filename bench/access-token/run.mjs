// Cost of access tokens: the same route on the same chassis service without and with the
// access-tokens plugin (RS256 token, key set fetched once and cached), each server in its own
// child process, loaded by the same autocannon settings from this process. Every request carries
// the same Authorization header, so the servers read the same bytes. Rounds alternate between
// the servers so drifts of a shared machine hit all alike. A third server runs with the
// verified-token cache off (accessTokens.cacheSize=0): the price of a signature check on every
// request, as with clients that never send the same token twice.
//
// `node access-token/run.mjs` runs the benchmark; the script starts its servers as
// `node access-token/run.mjs --serve <plain|tokens|uncached> --jwks <url>`.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(import.meta.url);
const resultsDir = join(dirname(here), '..', 'results');
const resultFile = join(resultsDir, 'access-token.latest.json');
const START_TIMEOUT_MS = 20_000;
const ISSUER = 'https://id.bench.test';
const AUDIENCE = 'bench';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    jwks: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** The server side: a chassis service with GET /hello, with or without access tokens. */
async function serve(mode, jwksUrl) {
  const chassis = await import('@keelson/chassis');
  // From the public API when the chassis exports it there, else from its module in the build.
  const builtIn = 'accessTokensPlugin' in chassis;
  const { accessTokensPlugin } = builtIn
    ? chassis
    : await import(new URL('../../packages/chassis/dist/access-tokens/index.js', import.meta.url).href);
  const svc = await chassis.createService({
    name: 'bench',
    handleProcess: true,
    // Chassis variables of the runner's environment pass through (ACCESS_TOKENS_FORWARD=false, ...):
    // that is how one feature's cost is told apart. They are named in the runner's output.
    env: { ...process.env, NODE_ENV: 'production' },
    argv: [],
    configDir: '/nonexistent',
    plugins: builtIn ? [] : [accessTokensPlugin],
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
      registry: { backend: 'none' },
      accessTokens:
        mode === 'plain'
          ? { enabled: false }
          : {
              enabled: true,
              jwksUrl,
              issuer: ISSUER,
              audience: [AUDIENCE],
              algorithms: ['RS256'],
              ...(mode === 'uncached' ? { cacheSize: 0 } : {}),
            },
    },
  });
  svc.http.get('/hello', async () => ({ hello: 'world' }));
  await svc.start();
  // A line the runner can tell from the JSON log lines around it: it has no `level`.
  process.stdout.write(`${JSON.stringify({ port: svc.http.server.address().port })}\n`);
  // The runner holds our stdin open; when it closes, the runner is gone.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

function readSettings() {
  if (values.help) {
    process.stdout.write(
      [
        'Usage: node access-token/run.mjs [options]',
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

/** An RS256 key pair, its key set, and a token valid for the whole run, made with node:crypto. */
function makeToken() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'bench-1';
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${encode({ alg: 'RS256', typ: 'JWT', kid })}.${encode({
    sub: 'bench-user',
    iss: ISSUER,
    aud: AUDIENCE,
    scope: 'hello:read',
    iat: now,
    exp: now + 3600,
  })}`;
  const signature = sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  return { jwks, token: `${input}.${signature}` };
}

/** Serves the key set on loopback, counting fetches (the server should fetch it once). */
async function startJwks(jwks) {
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/jwks`,
    get fetches() {
      return fetches;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts one server in a child process and resolves with its port once it listens. */
function startServer(mode, jwksUrl) {
  const child = spawn(process.execPath, [here, '--serve', mode, '--jwks', jwksUrl], {
    cwd: dirname(here),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
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
      reject(new Error(`${mode}: ${message}${stderrTail ? `\n${stderrTail}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      if (found) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = (lines.pop() ?? '').slice(-65_536);
      for (const line of lines) {
        let parsed;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof parsed.port === 'number' && parsed.level === undefined) {
          found = true;
          clearTimeout(timer);
          resolve({ child, port: parsed.port });
          return;
        }
      }
    });
    child.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
  });
}

async function stopServers() {
  await Promise.all(
    [...children].map(
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
    ),
  );
}

/** Checks both servers answer as expected before any load, so a broken setup fails loudly. */
async function checkServers(servers, token) {
  const get = async (port, headers) => (await fetch(`http://127.0.0.1:${port}/hello`, { headers })).status;
  const auth = { authorization: `Bearer ${token}` };
  const checks = [];
  for (const server of servers) {
    checks.push([await get(server.port, auth), 200, `${server.label}, with the token`]);
    if (server.mode !== 'plain')
      checks.push([await get(server.port, {}), 401, `${server.label}, without a token`]);
  }
  for (const [got, want, what] of checks)
    if (got !== want) throw new Error(`${what}: answered ${got}, expected ${want}`);
}

/** CPU time (user + system) of a process in µs, from /proc (Linux; undefined elsewhere). */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function load(autocannon, port, token, settings, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}/hello`,
        connections: settings.connections,
        duration: seconds,
        headers: { authorization: `Bearer ${token}` },
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          reqPerSec: result.requests.average,
          requests: result.requests.total,
          p99Ms: result.latency.p99,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
        });
      },
    );
  });
}

async function main() {
  const settings = readSettings();
  const { default: autocannon } = await import('autocannon');
  const { jwks, token } = makeToken();
  const keySet = await startJwks(jwks);
  const passed = Object.keys(process.env).filter((name) => name.startsWith('ACCESS_TOKENS_'));
  if (passed.length > 0)
    process.stdout.write(`chassis overrides from the environment: ${passed.join(' ')}\n`);
  process.stdout.write(
    `access-token: GET /hello with an RS256 bearer token, ${settings.connections} connections, ` +
      `warm-up ${settings.warmup} s, ${settings.rounds} × ${settings.duration} s rounds per server, ` +
      `node ${process.version}, ${cpus().length} CPUs\n`,
  );

  const servers = [];
  try {
    for (const [mode, label] of [
      ['plain', 'without access tokens'],
      ['tokens', 'with access tokens'],
      ['uncached', 'tokens, cache off'],
    ]) {
      const { child, port } = await startServer(mode, keySet.url);
      servers.push({ mode, label, pid: child.pid, port, rounds: [] });
    }
    await checkServers(servers, token);
    if (settings.warmup > 0)
      for (const server of servers) {
        const warm = await load(autocannon, server.port, token, settings, settings.warmup);
        process.stdout.write(`warm-up ${server.label}: ${warm.reqPerSec.toFixed(0)} req/s\n`);
      }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const server of servers) {
        const before = cpuMicros(server.pid);
        const result = await load(autocannon, server.port, token, settings, settings.duration);
        const after = cpuMicros(server.pid);
        result.cpuMicrosPerRequest =
          before === undefined || after === undefined ? null : (after - before) / result.requests;
        server.rounds.push(result);
        process.stdout.write(
          `round ${round}/${settings.rounds} ${server.label.padEnd(21)} ${result.reqPerSec.toFixed(0).padStart(7)} req/s` +
            `  p99 ${result.p99Ms} ms` +
            (result.cpuMicrosPerRequest === null
              ? ''
              : `  server CPU ${result.cpuMicrosPerRequest.toFixed(1)} µs/req`) +
            `  errors ${result.errors}  non-2xx ${result.non2xx}\n`,
        );
      }
    }
  } finally {
    await stopServers();
    await keySet.close();
  }

  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const summary = Object.fromEntries(
    servers.map((s) => [
      s.mode,
      {
        label: s.label,
        reqPerSec: mean(s.rounds.map((r) => r.reqPerSec)),
        cpuMicrosPerRequest: s.rounds.every((r) => r.cpuMicrosPerRequest !== null)
          ? mean(s.rounds.map((r) => r.cpuMicrosPerRequest))
          : null,
        errors: s.rounds.reduce((n, r) => n + r.errors + r.non2xx, 0),
        rounds: s.rounds,
      },
    ]),
  );
  const { plain, tokens, uncached } = summary;
  const ratio = tokens.reqPerSec / plain.reqPerSec;
  const uncachedRatio = uncached.reqPerSec / plain.reqPerSec;
  process.stdout.write(
    `\nwithout access tokens:          ${plain.reqPerSec.toFixed(0)} req/s\n` +
      `with access tokens:             ${tokens.reqPerSec.toFixed(0)} req/s\n` +
      `with access tokens, cache off:  ${uncached.reqPerSec.toFixed(0)} req/s\n` +
      `ratio with/without req/s: ${ratio.toFixed(3)} (cache off: ${uncachedRatio.toFixed(3)})\n`,
  );
  if (servers.every((s) => summary[s.mode].cpuMicrosPerRequest !== null)) {
    const extra = (s) => (s.cpuMicrosPerRequest - plain.cpuMicrosPerRequest).toFixed(1);
    process.stdout.write(
      `server CPU per request: ${plain.cpuMicrosPerRequest.toFixed(1)} µs without; ` +
        `+${extra(tokens)} µs with access tokens, +${extra(uncached)} µs with the cache off\n`,
    );
  }
  process.stdout.write(
    `key set fetches: ${keySet.fetches} (one per server with access tokens: then cached)\n`,
  );

  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    resultFile,
    `${JSON.stringify(
      {
        benchmark: 'access-token',
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        settings,
        servers: summary,
        ratio: Number(ratio.toFixed(3)),
        ratioCacheOff: Number(uncachedRatio.toFixed(3)),
        keySetFetches: keySet.fetches,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`results: ${relative(process.cwd(), resultFile)}\n`);
  if (Object.values(summary).some((s) => s.errors > 0)) {
    process.stderr.write('some requests failed: the figures above are not comparable\n');
    process.exitCode = 1;
  }
}

if (values.serve) await serve(values.serve, values.jwks);
else await main();
