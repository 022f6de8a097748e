import type { ConfigSchema } from '../config/index.js';

export const registryConfigSchema = {
  registry: {
    backend: {
      doc: 'Where instances register and are discovered: local (services on this machine, the embedded default), etcd, consul (the local agent), or none (Kubernetes: Services and readiness probes do the job).',
      format: ['local', 'etcd', 'consul', 'none'] as const,
      default: 'local',
    },
    ttlMs: {
      doc: 'Time in ms after which the record of an instance that stopped heart-beating (a crashed process) disappears. local and consul honour it to the ms; etcd leases count whole seconds, so with etcd it must be a multiple of 1000 (etcd raises a TTL below its minimum, 2 s by default, and the service logs the TTL granted).',
      format: 'nat',
      default: 10000,
    },
    deregisterDelayMs: {
      doc: 'Time in ms the shutdown waits after this instance left the registry and before the HTTP server stops accepting, so that the discovery caches of its callers drop it first (watches deliver the change within about 100 ms on local and etcd, a blocking query on consul). Bounded by shutdown.timeouts.deregister.',
      format: 'nat',
      default: 1000,
    },
    heartbeatMs: {
      doc: 'Interval in ms of the heartbeat that refreshes the record and re-checks readiness; keep it well below ttlMs.',
      format: 'nat',
      default: 3000,
    },
    downAfterFailures: {
      doc: 'Consecutive failed readiness checks (one per heartbeat) before the instance is marked down, and passes before it is marked up again: hysteresis against flapping.',
      format: 'nat',
      default: 2,
    },
    advertiseHost: {
      doc: 'Address other services reach this instance at. Empty: http.host, or the first non-internal IPv4 address when http.host is 0.0.0.0.',
      format: String,
      default: '',
    },
    tags: {
      doc: 'Tags of this instance in the registry (comma-separated in env and flags).',
      format: Array,
      default: [] as string[],
    },
    metadata: {
      doc: 'Key-value metadata of this instance in the registry, as a JSON object.',
      format: Object,
      default: {} as Record<string, string>,
    },
    local: {
      dir: {
        doc: 'Directory the services of one user on this machine share for the local backend; private to the user (created with mode 0700; a directory owned by another user or writable by group or others is refused). Empty: keelson-registry in $XDG_RUNTIME_DIR, else in $XDG_CACHE_HOME or ~/.cache.',
        format: String,
        default: '',
      },
    },
    etcd: {
      endpoints: {
        doc: 'etcd client URLs (comma-separated in env and flags).',
        format: Array,
        default: ['http://127.0.0.1:2379'] as string[],
      },
      prefix: {
        doc: 'Key prefix of instance records: <prefix><service>/<instance id>.',
        format: String,
        default: '/keelson/services/',
      },
    },
    consul: {
      url: {
        doc: 'Base URL of the Consul agent the instance registers with (normally the agent on the same node).',
        format: String,
        default: 'http://127.0.0.1:8500',
      },
      token: {
        doc: 'Consul ACL token (sent as X-Consul-Token); empty for none. Use REGISTRY_CONSUL_TOKEN_FILE for a secret file.',
        format: String,
        default: '',
        sensitive: true,
      },
      deregisterAfterMs: {
        doc: "Time in ms an instance whose check stays critical (a crashed process) is kept before the agent removes it: Consul's DeregisterCriticalServiceAfter, at least one minute.",
        format: 'nat',
        default: 60000,
      },
    },
    discovery: {
      balancing: {
        doc: 'How a client picks among instances: round-robin, or least-outstanding (fewest calls in flight).',
        format: ['round-robin', 'least-outstanding'] as const,
        default: 'round-robin',
      },
      ejectMs: {
        doc: 'Time in ms an instance whose call failed is skipped, while other instances are available.',
        format: 'nat',
        default: 10000,
      },
      refreshMs: {
        doc: 'Interval in ms at which the cached instances of a watched service are re-read in full, besides change notifications.',
        format: 'nat',
        default: 30000,
      },
    },
  },
} satisfies ConfigSchema;
