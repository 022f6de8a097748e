// Alternating load rounds: every round loads each server in turn, so the drifts of a shared
// machine hit all servers alike instead of whichever happened to run last.
import { readFileSync } from 'node:fs';
import { Latencies } from './latencies.mjs';

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

/**
 * One autocannon run with the given options, summarised; timeouts count as errors and p99 is
 * taken from every response time at full precision.
 */
async function loadRoute(options) {
  // Imported here so that a runner's server children, which import this module too, never load it.
  const { default: autocannon } = await import('autocannon');
  const latencies = new Latencies();
  return new Promise((resolve, reject) => {
    const run = autocannon(options, (error, result) =>
      error
        ? reject(error)
        : resolve({
            reqPerSec: result.requests.average,
            requests: result.requests.total,
            p99Ms: latencies.percentiles(99)[0],
            errors: result.errors + result.timeouts,
            non2xx: result.non2xx,
          }),
    );
    run.on('response', (_client, _status, _bytes, responseTime) => latencies.record(responseTime));
  });
}

/**
 * A warm-up of `settings.warmup` s per server (if any), then `settings.rounds` rounds of
 * `settings.duration` s per server, each measured round printed as one line.
 *
 * - `servers`: objects with `label` and the `pid` of the server process.
 * - `load(server, seconds)`: resolves with a result carrying reqPerSec, requests, errors, non2xx.
 * - `latencyText(result)`: the latency part of a round line.
 * - `warmedUp(server, result)`: optional, after each server's warm-up.
 * - `measured(server, result, serverCpuMicros)`: keeps a round's result; serverCpuMicros is the
 *   server's CPU time over the round, null where /proc cannot tell.
 */
export async function runAlternatingRounds({ servers, settings, load, latencyText, warmedUp, measured }) {
  if (settings.warmup > 0) {
    for (const server of servers) {
      const result = await load(server, settings.warmup);
      warmedUp?.(server, result);
    }
  }
  const labelWidth = Math.max(...servers.map((s) => s.label.length));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const server of servers) {
      const cpuBefore = cpuMicros(server.pid);
      const result = await load(server, settings.duration);
      const cpuAfter = cpuMicros(server.pid);
      const serverCpuMicros = cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore;
      measured(server, result, serverCpuMicros);
      process.stdout.write(
        `round ${round}/${settings.rounds} ${server.label.padEnd(labelWidth)} ${result.reqPerSec.toFixed(0).padStart(7)} req/s` +
          `  ${latencyText(result)}` +
          (serverCpuMicros === null
            ? ''
            : `  server CPU ${(serverCpuMicros / result.requests).toFixed(1)} µs/req`) +
          `  errors ${result.errors}  non-2xx ${result.non2xx}\n`,
      );
    }
  }
}

/**
 * runAlternatingRounds on GET /hello of each server's `port`, every request with `headers` (if
 * any), keeping each round in `server.rounds` with the server's CPU per request
 * (cpuMicrosPerRequest, null where /proc cannot tell).
 */
export function runHelloRounds({ servers, settings, headers, warmedUp }) {
  return runAlternatingRounds({
    servers,
    settings,
    load: (server, seconds) =>
      loadRoute({
        url: `http://127.0.0.1:${server.port}/hello`,
        connections: settings.connections,
        duration: seconds,
        ...(headers ? { headers } : {}),
      }),
    latencyText: (result) => `p99 ${result.p99Ms.toFixed(2)} ms`,
    warmedUp,
    measured: (server, result, serverCpuMicros) => {
      result.cpuMicrosPerRequest = serverCpuMicros === null ? null : serverCpuMicros / result.requests;
      server.rounds.push(result);
    },
  });
}
