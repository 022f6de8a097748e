import type { ConfigSchema } from '../config/index.js';

export const httpConfigSchema = {
  http: {
    host: {
      doc: 'Address the HTTP server binds to. 0.0.0.0 serves every interface (containers); 127.0.0.1 keeps it local.',
      format: String,
      default: '0.0.0.0',
    },
    port: {
      doc: 'TCP port of the HTTP server; 0 picks a free port.',
      format: 'port',
      default: 3000,
    },
    bodyLimit: {
      doc: 'Largest accepted request body in bytes; larger bodies get 413.',
      format: 'nat',
      default: 1048576,
    },
    requestTimeoutMs: {
      doc: 'Time in ms to receive a whole request (headers and body) before the server answers 408; 0 disables. Checked every 250 ms, so it fires within 250 ms of its setting.',
      format: 'nat',
      default: 30000,
    },
    headersTimeoutMs: {
      doc: 'Time in ms to receive the request headers before the server answers 408; capped at http.requestTimeoutMs. 0 means http.requestTimeoutMs.',
      format: 'nat',
      default: 10000,
    },
    handlerTimeoutMs: {
      doc: 'Time in ms from routing to the response being sent before the server answers 503 problem+json and aborts request.signal, which handlers pass to the work they start; 0 disables. A route can set its own with the handlerTimeout route option.',
      format: 'nat',
      default: 30000,
    },
    maxConnections: {
      doc: 'Largest number of open client connections; further connections are closed at once. 0 means no limit.',
      format: 'nat',
      default: 0,
    },
    drainIdleGraceMs: {
      doc: 'During shutdown, a kept-alive connection with no request in flight is closed once it has been quiet this long (ms); a connection that sends a request is answered with connection: close instead.',
      format: 'nat',
      default: 1000,
    },
    keepAliveTimeoutMs: {
      doc: 'Idle time in ms before a keep-alive connection closes; keep it above the load balancer idle timeout.',
      format: 'nat',
      default: 72000,
    },
    trustProxy: {
      doc: 'Which proxies to trust for X-Forwarded-*: "" (none), "true" (all), a hop count, or comma-separated addresses/CIDRs.',
      format: String,
      default: '',
    },
    accessLog: {
      doc: 'Log one line per completed request (method, route, URL, status, duration).',
      format: Boolean,
      default: false,
    },
    docs: {
      enabled: {
        doc: 'Serve the OpenAPI document at /openapi.json and a browsable UI at /docs.',
        format: Boolean,
        default: true,
      },
    },
  },
} as const satisfies ConfigSchema;
