import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange } from '../fixtures/consul-agent-exchanges.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  body?: unknown;
  token?: string;
}

/**
 * A loopback stand-in for a Consul agent that answers from recorded exchanges, in order, and keeps
 * every request it received. A request that is not the next recorded one is answered 599 and kept
 * in `unexpected` (unless `acceptAll`); a blocking query past the end of the recording is held until `close()`, as a
 * real agent holds it until its wait ends.
 */
export async function startConsulReplay(
  exchanges: Exchange[],
  options: {
    /** Answer requests beyond the recording with 200 instead of holding them as unexpected. */ acceptAll?: boolean;
  } = {},
) {
  const queue = [...exchanges];
  const received: ReceivedRequest[] = [];
  const unexpected: ReceivedRequest[] = [];
  const held: ServerResponse[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const request: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      ...(text ? { body: JSON.parse(text) as unknown } : {}),
      ...(req.headers['x-consul-token'] ? { token: String(req.headers['x-consul-token']) } : {}),
    };
    received.push(request);
    const next = queue[0];
    if (!next && request.path.includes('wait=')) return void held.push(res);
    if (!next && options.acceptAll) return void res.writeHead(200).end();
    if (!next || next.request.method !== request.method || next.request.path !== request.path) {
      unexpected.push(request);
      return void res.writeHead(599).end('not in the recording');
    }
    queue.shift();
    const { status, headers, body } = next.response;
    res.writeHead(status, headers);
    res.end(
      body === undefined ? '' : typeof body === 'string' && status !== 200 ? body : JSON.stringify(body),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    unexpected,
    /** Recorded exchanges not asked for yet. */
    remaining: () => queue.length,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
