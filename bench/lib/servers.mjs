// Server children of a runner: each server under test runs in its own process, so the load
// generator in the runner does not share its event loop or CPU time.
import { spawn } from 'node:child_process';

const START_TIMEOUT_MS = 20_000;

/** A failure the runner reports in one line: the stack would only point into the runner. */
export class BenchError extends Error {}

const children = new Set();

// Last resort for any path that exits without stopping them.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts `node <args>` and resolves with the child and its port once it prints its port line:
 * a JSON line with a numeric `port` and no `level`, which tells it from the log lines around it.
 * `label` names the server in errors; `execPath` is the node binary (this process's by default).
 */
export function spawnServer({ label, args, cwd, env, execPath = process.execPath }) {
  const child = spawn(execPath, args, {
    cwd,
    // The child's stdin stays open as a lifeline: it exits when the runner goes away.
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
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
      reject(new BenchError(`${label}: ${message}${stderrTail ? `\n${stderrTail}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    // Once the port is known the rest of stdout is read and dropped, so the pipe never fills and
    // nothing accumulates.
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

/** Stops a server child gracefully (so profiles get written), then forcefully after 5 s. */
export function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every server child. */
export async function stopServers() {
  await Promise.all([...children].map(stopServer));
}
