import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceMetrics } from './service-metrics.js';

/** A bare HTTP server that serves only the metrics path, for `metrics.port`. */
export class MetricsServer {
  readonly #server: Server;

  constructor(metrics: ServiceMetrics, path: string) {
    this.#server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?', 1)[0] !== path) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed'),
      );
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
