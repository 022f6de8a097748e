import type { Registry } from './registry-port.js';
import type { ServiceInstance } from './service-instance.js';

/** `registry.backend=none`: nothing registers and nothing is discovered (Kubernetes Services do both). */
export class NoneRegistry implements Registry {
  readonly backend = 'none';
  async register(): Promise<void> {}
  async heartbeat(): Promise<void> {}
  async deregister(): Promise<void> {}
  async instances(): Promise<ServiceInstance[]> {
    return [];
  }
  watch(): () => void {
    return () => {};
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
