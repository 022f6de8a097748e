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
    const value = JSON.parse(text) as Partial<ServiceInstance>;
    if (typeof value.service !== 'string' || typeof value.id !== 'string' || typeof value.url !== 'string')
      return undefined;
    return value as ServiceInstance;
  } catch {
    return undefined;
  }
}
