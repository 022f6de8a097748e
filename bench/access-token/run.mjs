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
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mean, saveResults } from '../lib/results.mjs';
import { runHelloRounds } from '../lib/rounds.mjs';
import { serveForRunner } from '../lib/server-child.mjs';
import { spawnServer, stopServers } from '../lib/servers.mjs';
import { ROUND_OPTIONS, ROUND_USAGE, readRoundSettings } from '../lib/settings.mjs';

const here = fileURLToPath(import.meta.url);
const resultsDir = join(dirname(here), '..', 'results');
const resultFile = join(resultsDir, 'access-token.latest.json');
const ISSUER = 'https://id.bench.test';
const AUDIENCE = 'bench';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    jwks: { type: 'string' },
    ...ROUND_OPTIONS,
  },
});

/** The server side: a chassis service with GET /hello, with or without access tokens. */
async function serve(mode, jwksUrl) {
  const { createService } = await import('@keelson/chassis');
  const svc = await createService({
    name: 'bench',
    handleProcess: true,
    // Chassis variables of the runner's environment pass through (ACCESS_TOKENS_FORWARD=false, ...):
    // that is how one feature's cost is told apart. They are named in the runner's output.
    env: { ...process.env, NODE_ENV: 'production', REGISTRY_BACKEND: 'none' },
    argv: [],
    configDir: '/nonexistent',
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
  // SIGTERM and SIGINT stay the chassis's own (a graceful stop); the port line has no `level`,
  // so the runner tells it from the log lines around it.
  serveForRunner(svc.http.server.address().port);
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

/** Starts one server in a child process and resolves with its port once it listens. */
function startServer(mode, jwksUrl) {
  return spawnServer({ label: mode, args: [here, '--serve', mode, '--jwks', jwksUrl], cwd: dirname(here) });
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

async function main() {
  const settings = readRoundSettings(values, ['Usage: node access-token/run.mjs [options]', ...ROUND_USAGE]);
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
    await runHelloRounds({
      servers,
      settings,
      headers: { authorization: `Bearer ${token}` },
      warmedUp: (server, warm) =>
        process.stdout.write(`warm-up ${server.label}: ${warm.reqPerSec.toFixed(0)} req/s\n`),
    });
  } finally {
    await stopServers();
    await keySet.close();
  }

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

  saveResults(resultFile, {
    benchmark: 'access-token',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    settings,
    servers: summary,
    ratio: Number(ratio.toFixed(3)),
    ratioCacheOff: Number(uncachedRatio.toFixed(3)),
    keySetFetches: keySet.fetches,
  });
  if (Object.values(summary).some((s) => s.errors > 0)) {
    process.stderr.write('some requests failed: the figures above are not comparable\n');
    process.exitCode = 1;
  }
}

if (values.serve) await serve(values.serve, values.jwks);
else await main();
