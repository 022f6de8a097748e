// Types for scripts/infra.mjs, so that strict TypeScript (test setup) can import it.

export interface InfraUrls {
  postgres: string;
  amqp: string;
  etcd: string;
}

export interface UpOptions {
  /** Print no progress on stderr. */
  quiet?: boolean;
}

export type ServerState = 'up' | 'down' | 'starting' | 'port-in-use' | 'external' | 'skipped';

export interface ServerStatus {
  name: 'postgres' | 'rabbitmq' | 'etcd';
  state: ServerState;
  url: string;
  pid?: number;
}

/** Starts whatever is not running (installing it first on Debian when root) and returns the URLs. */
export function up(options?: UpOptions): Promise<InfraUrls>;
/** Stops the servers that `up` started; idempotent. */
export function down(): Promise<void>;
/** Each server's state; `up` is true when every server is up, external or skipped. */
export function status(): Promise<{ up: boolean; servers: ServerStatus[] }>;
/** The path of promtool, installed with Debian's prometheus package when missing. */
export function ensurePromtool(): Promise<string>;
/** The path of the Prometheus server, installed with Debian's prometheus package when missing. */
export function ensurePrometheus(): Promise<string>;
/** Stops one server that `up` started (fault tests); refuses external servers. */
export function stopServer(name: ServerStatus['name']): Promise<void>;
/** Starts it again and waits until it is ready. */
export function startServer(name: ServerStatus['name']): Promise<void>;
