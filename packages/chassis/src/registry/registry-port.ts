import type { ServiceInstance } from './service-instance.js';

/**
 * A service registry backend (`registry.backend`): where this instance's record lives and where the
 * instances of other services are found. One adapter per file.
 */
export interface Registry {
  readonly backend: string;
  /** Writes (or rewrites) this instance's record; called on READY and on every state change. */
  register(instance: ServiceInstance): Promise<void>;
  /** Refreshes the record's liveness (TTL); re-registers when the backend lost it. */
  heartbeat(instance: ServiceInstance): Promise<void>;
  /** Removes this instance's record. */
  deregister(instance: ServiceInstance): Promise<void>;
  /** The live instances of a service, or of every service when `service` is omitted. */
  instances(service?: string): Promise<ServiceInstance[]>;
  /** Calls `onChange` when the instances of `service` may have changed; returns a stop function. */
  watch(service: string, onChange: () => void): () => void;
  /** Throws when the backend cannot be reached: the registry's health indicator. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
