import type { AddressInfo } from 'node:net';
import type { ConfigSchema, InferConfig } from '../config/index.js';
import {
  type BuiltInConfig,
  type CreateServiceOptions,
  createService,
  type Service,
} from '../create-service.js';
import { LogCapture } from './log-capture.js';

export interface TestService<C> {
  service: Service<C>;
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  logs: LogCapture;
}

/**
 * Creates and starts a service for a test: loopback on a free port, logs captured in memory, no
 * process-level handlers, no registry, idle connections closed at once on stop, and an empty environment unless `env` is given, so the test sees only
 * what it sets. Stop it with `service.stop()`.
 */
export async function startTestService<const S extends ConfigSchema = {}>(
  options: Partial<CreateServiceOptions<S>> & {
    /** Runs after the service is created and before it starts: add routes and indicators here. */
    setup?: (service: Service<BuiltInConfig & InferConfig<S>>) => void | Promise<void>;
  } = {},
): Promise<TestService<BuiltInConfig & InferConfig<S>>> {
  const logs = new LogCapture();
  const { overrides, setup, ...rest } = options;
  const service = await createService<S>({
    name: 'test-service',
    env: {},
    argv: [],
    configDir: '/nonexistent/keelson-test-config',
    handleProcess: false,
    logDestination: logs,
    ...rest,
    overrides: {
      ...overrides,
      // Idle kept-alive connections (fetch keeps them 4 s) close at once on stop: tests stop often.
      http: { host: '127.0.0.1', port: 0, drainIdleGraceMs: 0, ...(overrides?.http as object | undefined) },
      // A test service stays out of the machine's shared local registry unless the test asks.
      registry: { backend: 'none', ...(overrides?.registry as object | undefined) },
    },
  });
  await setup?.(service);
  await service.start();
  const address = service.http.server.address() as AddressInfo;
  return { service, url: `http://127.0.0.1:${address.port}`, logs };
}
