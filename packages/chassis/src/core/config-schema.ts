import type { ConfigSchema } from '../config/index.js';

const phaseTimeout = (phase: string, ms: number) =>
  ({
    doc: `Upper bound in ms of the "${phase}" shutdown phase; the next phase starts when it passes.`,
    format: 'nat',
    default: ms,
  }) as const;

/** Keys the service runtime itself owns. */
export const coreConfigSchema = {
  env: {
    doc: 'Runtime environment. Selects config/<env>.json (from the flag or NODE_ENV, not from files); "development" enables pretty logs, and error details in 5xx responses when set explicitly.',
    format: String,
    default: 'development',
    env: 'NODE_ENV',
  },
  service: {
    version: {
      doc: 'Version of the service, reported in logs, health, metrics and the OpenAPI document.',
      format: String,
      default: '0.0.0',
    },
    instanceId: {
      doc: 'Unique id of this instance. Generated from host name, pid and a random suffix when empty.',
      format: String,
      default: '',
    },
    allowEmbeddedInProduction: {
      doc: 'With env=production, a service that needs a database, broker or registry refuses to start on the embedded defaults (in-memory PGlite, the in-process broker, the local registry) and names the key to set. true runs on them anyway, on purpose.',
      format: Boolean,
      default: false,
    },
  },
  shutdown: {
    preStopDelayMs: {
      doc: 'Time in ms between readiness turning 503 and the rest of the shutdown, so load balancers stop sending traffic first. Set it above the readiness probe period in Kubernetes.',
      format: 'nat',
      default: 0,
    },
    timeouts: {
      deregister: phaseTimeout('deregister', 5000),
      http: phaseTimeout('http', 10000),
      consumers: phaseTimeout('consumers', 10000),
      relay: phaseTimeout('relay', 5000),
      connections: phaseTimeout('connections', 5000),
      telemetry: phaseTimeout('telemetry', 5000),
    },
  },
} as const satisfies ConfigSchema;
