import type { TestProject } from 'vitest/node';
import { ensurePromtool, up } from '../../../scripts/infra.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    amqpUrl: string;
    etcdUrl: string;
    promtool: string;
  }
}

/**
 * Starts (or finds) RabbitMQ, PostgreSQL and etcd on loopback before any test runs, installing
 * them first on a fresh Debian machine, and finds promtool for the exposition format checks. They keep running afterwards: `npm run infra down`.
 */
export async function setup(project: TestProject): Promise<void> {
  const urls = await up();
  project.provide('postgresUrl', urls.postgres);
  project.provide('amqpUrl', urls.amqp);
  project.provide('etcdUrl', urls.etcd);
  project.provide('promtool', await ensurePromtool());
}
