import type { FastifyRequest } from 'fastify';
import { startTestService } from '../../src/testing/index.js';

type TestOptions = NonNullable<Parameters<typeof startTestService<{}>>[0]>;

/** Starts a test service; the audit plugin is a built-in, switched on by the options' config. */
export function startAudited(options: TestOptions) {
  return startTestService(options);
}

/** What an authentication plugin leaves on the request; set by a test hook instead of a token. */
export function setPrincipal(request: FastifyRequest, subject: string): void {
  (request as { principal?: unknown }).principal = { subject };
}

/** The value of one sample in a Prometheus text exposition, 0 when absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export interface AuditRowView {
  id: string;
  subject: string | null;
  action: string;
  resource: string | null;
  outcome: string;
  request_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown> | null;
  prev_hash: string | null;
  hash: string | null;
  at: Date;
}
