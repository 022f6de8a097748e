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
      doc: 'Time in ms to receive a whole request before the server answers 408; 0 disables.',
      format: 'nat',
      default: 30000,
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
      doc: 'Log one line per completed request (method, route, status, duration).',
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
