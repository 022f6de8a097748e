import type { ConfigSchema } from '../config/index.js';

export const dynamicConfigSchema = {
  dynamicConfig: {
    enabled: {
      doc: 'Reload the configuration while the service runs (config file changes, SIGHUP, etcd): keys marked reloadable take their new value, changes to other keys are reported and wait for a restart.',
      format: Boolean,
      default: false,
    },
    watchFiles: {
      doc: 'Reload when a file in the config directory changes (default.json, <env>.json, local.json, and Kubernetes ConfigMap updates).',
      format: Boolean,
      default: true,
    },
    debounceMs: {
      doc: 'Quiet time in ms after the last change notice before reloading, so a burst of writes (an editor, a deployment) gives one reload.',
      format: 'nat',
      default: 200,
      reloadable: true,
    },
    etcd: {
      enabled: {
        doc: 'Also watch the etcd keys <prefix>/config/<service>/<config key> (values are JSON): they override files and code, and lose to env and flags.',
        format: Boolean,
        default: false,
      },
      prefix: {
        doc: 'Key prefix of the watched keys: <prefix>/config/<service>/.',
        format: String,
        default: '/keelson',
      },
      endpoints: {
        doc: 'etcd client URLs (comma-separated in env and flags). Empty: the registry’s registry.etcd.endpoints.',
        format: Array,
        default: [] as string[],
      },
    },
  },
} as const satisfies ConfigSchema;
