import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  at: number;
  /** When the response ended or its connection closed, whichever came first. */
  closedAt?: number;
}

/** What the server does with the n-th request (0-based): a status, headers, a body, an optional delay. */
export type Script = (
  n: number,
  req: IncomingMessage,
) => {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
  hold?: Promise<void>;
};

/** A plain node:http server on loopback that answers by script and records every request. */
export async function startScriptedServer(script: Script) {
  const hits: Hit[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = hits.length;
    const hit: Hit = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      at: performance.now(),
    };
    hits.push(hit);
    res.on('close', () => {
      hit.closedAt = performance.now();
    });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume();
    req.on('end', async () => {
      const step = script(n, req);
      if (step.hold) await step.hold;
      if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
      inFlight--;
      if (res.destroyed) return;
      const body = step.body === undefined ? '' : JSON.stringify(step.body);
      res.writeHead(step.status ?? 200, { 'content-type': 'application/json', ...step.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
