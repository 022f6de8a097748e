/** Lifecycle state of an instance as the registry shows it. */
export type InstanceState = 'STARTING' | 'READY' | 'DRAINING' | 'DOWN';

/** What a registry holds about one running instance. */
export interface ServiceInstance {
  service: string;
  id: string;
  /** Base URL other services call, e.g. `http://10.0.0.7:3000`. */
  url: string;
  address: string;
  port: number;
  version: string;
  state: InstanceState;
  healthUrl: string;
  metricsUrl: string;
  tags: string[];
  metadata: Record<string, string>;
  /** ISO time the record was first written. */
  registeredAt: string;
}

/** Instances of one service that may receive calls. */
export function callable(instances: readonly ServiceInstance[]): ServiceInstance[] {
  return instances.filter((i) => i.state === 'READY');
}

/** Reads a record written by any backend; undefined when it is not one. */
export function parseInstance(text: string): ServiceInstance | undefined {
  try {
    return asInstance(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The value as an instance record, when it is one. */
export function asInstance(value: unknown): ServiceInstance | undefined {
  const record = value as Partial<ServiceInstance> | null;
  if (typeof record?.service !== 'string' || typeof record.id !== 'string' || typeof record.url !== 'string')
    return undefined;
  return record as ServiceInstance;
}
