import { createServer } from 'node:net';

/** A loopback port nothing listens on right now (bound, then released): for a server to start on, or to find closed. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
