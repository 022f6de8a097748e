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

/** Starts (or finds) PostgreSQL, RabbitMQ and etcd on loopback, and finds promtool for the rule tests. */
export async function setup(project: TestProject): Promise<void> {
  const urls = await up();
  project.provide('postgresUrl', urls.postgres);
  project.provide('amqpUrl', urls.amqp);
  project.provide('etcdUrl', urls.etcd);
  project.provide('promtool', await ensurePromtool());
}
