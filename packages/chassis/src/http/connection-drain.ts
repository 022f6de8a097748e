import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';

const POLL_MS = 20;
/** How long no new connection must arrive before the listener closes (see {@link ConnectionDrain.drain}). */
const SETTLE_MS = 250;

interface Activity {
  read: number;
  written: number;
  quietSince: number;
}

/** The response a socket is writing, if any: Node keeps it on the socket while a request is in flight. */
const inFlight = (socket: Socket): boolean =>
  (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;

/**
 * Drains an HTTP server's connections without resetting a request a client already sent. Once
 * draining starts, every response says `connection: close` (see {@link closeConnection}), so a busy
 * kept-alive connection ends after its current response. When the listener closes, connections are
 * left open rather than closed as idle (Node's `server.close()` would do that, racing a client that is
 * writing its next request): a connection is closed only when it has no request in flight and has
 * been quiet for the idle grace, or when the bound passes.
 */
export class ConnectionDrain {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closing = false;
  /** When a connection last opened, or a response last asked its client to reconnect. */
  #lastChurnAt = 0;

  constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#lastChurnAt = performance.now();
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /**
   * Whether a response written now must carry `connection: close` (true once draining started);
   * asked when the response is written, not when its request arrived.
   */
  closeConnection(): boolean {
    if (this.#closing) this.#lastChurnAt = performance.now();
    return this.#closing;
  }

  /** From now on, every response closes its connection. */
  startClosing(): void {
    this.#closing = true;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Stops accepting connections, then waits until every connection has closed: by itself after a
   * `connection: close` response, or closed here once idle for `idleGraceMs`. Connections still open
   * after `boundMs` are destroyed. Resolves true when nothing had to be destroyed.
   */
  async drain(idleGraceMs: number, boundMs: number): Promise<boolean> {
    const deadline = performance.now() + boundMs;
    if (this.#server.listening) {
      await this.#settle(Math.min(deadline, performance.now() + boundMs / 4));
      // net.Server's close: stop listening, but leave idle kept-alive connections to the loop below.
      NetServer.prototype.close.call(this.#server);
    }
    this.#closing = true;
    const activity = new Map<Socket, Activity>();
    while (this.#sockets.size > 0 && performance.now() < deadline) {
      const now = performance.now();
      for (const socket of this.#sockets) {
        const seen = activity.get(socket);
        const { bytesRead: read, bytesWritten: written } = socket;
        if (inFlight(socket) || !seen || seen.read !== read || seen.written !== written) {
          activity.set(socket, { read, written, quietSince: now });
        } else if (now - seen.quietSince >= idleGraceMs) {
          // A FIN, not a reset: the client sees the connection end and opens a new one elsewhere.
          socket.end();
        }
      }
      await delay(POLL_MS);
    }
    const forced = this.#sockets.size;
    if (forced > 0) for (const socket of this.#sockets) socket.destroy();
    return forced === 0;
  }

  /**
   * Connections the kernel has queued but Node not yet accepted are reset when the listener closes,
   * and their clients' requests with them. Clients still opening connections at this point (none, when
   * readiness and the registry turned traffic away) keep doing so only because each response asks
   * them to reconnect: so until no connection has opened and no response asked to reconnect for
   * SETTLE_MS, responses keep their connection open, and the listener closes with an empty queue.
   */
  async #settle(until: number): Promise<void> {
    // Checked from setImmediate, which runs after the event loop's poll phase: connections queued
    // while the process was not scheduled are accepted (and counted) before the check.
    const quiet = async () => {
      await nextTurn();
      return performance.now() - this.#lastChurnAt >= SETTLE_MS;
    };
    if (await quiet()) return;
    this.#closing = false;
    while (!(await quiet()) && performance.now() < until) await delay(POLL_MS / 2);
  }
}
