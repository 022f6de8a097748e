import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SHOP = fileURLToPath(new URL('../../', import.meta.url));

/** A process of the shop (or the demo), its JSON log lines parsed as they arrive. */
export interface ServiceProcess {
  child: ChildProcess;
  /** Base URL once the HTTP server listens (empty for the demo, which runs three). */
  url: string;
  /** Every stdout line parsed as JSON; other lines kept as `{ raw }`. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `dist/<script>` of the shop (built by the test script first, as `npm run demo` runs it) with
 * only the given environment (and PATH), and resolves when a log line matches `ready` (by default,
 * the HTTP server listening).
 */
export async function spawnShopScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  ready: (line: Record<string, unknown>) => string | undefined = listeningUrl,
  timeoutMs = 90_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [`dist/${script}`, ...args], {
    cwd: SHOP,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  let onReady: (url: string) => void = () => {};
  const readyLine = new Promise<string>((resolve) => {
    onReady = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      const url = ready(line);
      if (url !== undefined) onReady(url);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let timer: NodeJS.Timeout | undefined;
  const url = await Promise.race([
    readyLine,
    exit.then(({ code, signal }) => {
      throw new Error(
        `${script} ${args.join(' ')} exited (${code ?? signal}) before it was ready:\n${stderr}`,
      );
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} ${args.join(' ')} not ready within ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return { child, url, lines, stderr: () => stderr, exit };
}

function listeningUrl(line: Record<string, unknown>): string | undefined {
  return /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(String(line.msg ?? ''))?.[1];
}

/** Polls until `check` resolves truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
}
