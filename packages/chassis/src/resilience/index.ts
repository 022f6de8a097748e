export { clientsPlugin, type HttpClients } from './clients-plugin.js';
export { type ClientDefaults, clientConfigSchema } from './config-schema.js';
export type { Endpoint, EndpointResolver } from './endpoint-resolver.js';
export {
  BulkheadFullError,
  CircuitOpenError,
  ConnectionError,
  HttpClientError,
  type HttpClientErrorKind,
  HttpStatusError,
  TimeoutError,
} from './errors.js';
export {
  type HttpCallOptions,
  HttpClient,
  type HttpHeaders,
  type HttpResponse,
  type RequestHeadersHook,
} from './http-client.js';
