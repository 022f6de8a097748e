import type { ConfigEntry } from '../config/index.js';

/** The body of `GET /info`. */
export interface ServiceInfo {
  name: string;
  version: string;
  releaseId: string;
  instanceId: string;
  /** When the service started, ISO 8601. */
  startTime: string;
  uptimeSeconds: number;
  /** `process.version`, e.g. `v22.11.0`. */
  nodeVersion: string;
  /** Registered plugins that are not switched off by their `<section>.enabled` key, in registration order. */
  enabledPlugins: string[];
}

/** The JSON schema of {@link ServiceInfo}: the OpenAPI document shows it, fastify serialises by it. */
export const serviceInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'version',
    'releaseId',
    'instanceId',
    'startTime',
    'uptimeSeconds',
    'nodeVersion',
    'enabledPlugins',
  ],
  properties: {
    name: { type: 'string', description: 'Service name.' },
    version: { type: 'string', description: 'Service version (service.version).' },
    releaseId: {
      type: 'string',
      description: 'Deployed release (info.releaseId, else info.gitSha); empty when unknown.',
    },
    instanceId: { type: 'string', description: 'Id of this instance (service.instanceId).' },
    startTime: { type: 'string', format: 'date-time', description: 'When the service started.' },
    uptimeSeconds: { type: 'number', description: 'Seconds since startTime.' },
    nodeVersion: { type: 'string', description: 'Node.js version, e.g. v22.11.0.' },
    enabledPlugins: {
      type: 'array',
      items: { type: 'string' },
      description: 'Registered plugins not switched off by their <section>.enabled key.',
    },
  },
} as const;

const SECTION_SWITCH = /^[^.]+\.enabled$/;

/**
 * The enabled plugins: the registered ones minus those whose own `<section>.enabled` key is false,
 * the switch every optional plugin has.
 */
export function enabledPlugins(registered: readonly string[], entries: readonly ConfigEntry[]): string[] {
  const off = new Set(
    entries.filter((e) => SECTION_SWITCH.test(e.key) && e.value === false).map((e) => e.owner),
  );
  return registered.filter((name) => !off.has(name));
}
