import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ChildService {
  child: ChildProcess;
  /** Base URL once the server listens. */
  url: string;
  /** Every stdout line parsed as JSON (non-JSON lines are kept as `{ raw }`). */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Runs a fixture service in a child process (through tsx) and waits until it listens. */
export async function spawnFixture(
  fixture: string,
  env: Record<string, string>,
  options: { waitForListening?: boolean } = {},
): Promise<ChildService> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${FIXTURES}${fixture}`], {
    env: {
      PATH: process.env.PATH ?? '',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      NODE_ENV: 'production',
      // Fixtures run on the embedded defaults on purpose: one machine, nothing to keep.
      SERVICE_ALLOW_EMBEDDED_IN_PRODUCTION: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  let resolveUrl: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { raw: line };
      }
      lines.push(entry);
      const match = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(String(entry.msg ?? ''));
      if (match?.[1]) resolveUrl(match[1]);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let url = '';
  if (options.waitForListening !== false) {
    url = await Promise.race([
      listening,
      exit.then(({ code }) => {
        throw new Error(`fixture exited with ${code} before listening:\n${stderr}`);
      }),
    ]);
  }
  return { child, url, lines, stderr: () => stderr, exit };
}
