import { addConfigFormat, type ConfigSchema } from '../config/index.js';

addConfigFormat({
  name: 'openapi-servers',
  description:
    'a list of URLs: absolute http(s) URLs, or paths starting with / (comma-separated in env and flags)',
  validate(value: unknown) {
    if (!Array.isArray(value) || value.length === 0) throw new Error('must list at least one URL');
    for (const url of value) {
      if (typeof url === 'string' && url.startsWith('/')) continue;
      let parsed: URL | undefined;
      try {
        parsed = new URL(String(url));
      } catch {}
      if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:')
        throw new Error(`${JSON.stringify(url)} is neither an http(s) URL nor a path starting with /`);
    }
  },
  coerce: (value: unknown) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '')
      : value,
});

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
        doc: 'Serve the OpenAPI document at /openapi.json and a browsable UI at /docs. Off, `keelson openapi` still writes the document.',
        format: Boolean,
        default: true,
      },
      servers: {
        doc: 'The servers of the OpenAPI document: the URLs clients call the API at (behind a gateway, its public URL). "/" means the host that served the document.',
        format: 'openapi-servers',
        default: ['/'] as string[],
      },
      operationalRoutes: {
        doc: 'The operational routes in the OpenAPI document (health, metrics, info, /openapi.json, /docs; any route with config.operational): "hide" leaves them out, so the document is the API its clients call; "describe" documents them with their real answers.',
        format: ['hide', 'describe'],
        default: 'hide',
      },
    },
  },
} as const satisfies ConfigSchema;
