import { Socket } from 'node:net';

/**
 * Keeps every TCP client socket the process connects while it tracks (the database driver's, the
 * broker's, the registry client's), so that a check whose server accepts and never answers can be
 * ended by destroying its sockets: drivers waiting on such a socket keep the process alive forever.
 * Node's `net.client.socket` diagnostics channel misses sockets made with `new Socket()` (as `pg`
 * makes them), so the tracker wraps `Socket.prototype.connect`, which every client socket goes
 * through, and puts it back when it stops.
 */
export class SocketTracker {
  readonly #sockets = new Set<Socket>();
  readonly #connect = Socket.prototype.connect;

  constructor() {
    const sockets = this.#sockets;
    const connect = this.#connect;
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      sockets.add(this);
      this.once('close', () => sockets.delete(this));
      return (connect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof connect;
  }

  /** Destroys the sockets open now, and goes on tracking. */
  destroyOpen(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Stops tracking and destroys the sockets still open. */
  stop(): void {
    Socket.prototype.connect = this.#connect;
    this.destroyOpen();
  }
}
