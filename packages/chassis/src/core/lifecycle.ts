/** The states a service moves through. */
export type LifecycleState = 'STARTING' | 'READY' | 'DRAINING' | 'STOPPED' | 'FAILED';

const TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  STARTING: ['READY', 'DRAINING', 'FAILED'],
  READY: ['DRAINING', 'FAILED'],
  DRAINING: ['STOPPED', 'FAILED'],
  FAILED: ['DRAINING', 'STOPPED'],
  STOPPED: [],
};

export type LifecycleListener = (to: LifecycleState, from: LifecycleState) => void;

/**
 * An explicit state machine: STARTING → READY → DRAINING → STOPPED, with FAILED reachable from any
 * live state. A transition that the table does not allow is a bug and throws.
 */
export class Lifecycle {
  #state: LifecycleState = 'STARTING';
  readonly #listeners = new Set<LifecycleListener>();

  get state(): LifecycleState {
    return this.#state;
  }

  can(to: LifecycleState): boolean {
    return TRANSITIONS[this.#state].includes(to);
  }

  transition(to: LifecycleState): void {
    const from = this.#state;
    if (!this.can(to)) throw new Error(`Illegal lifecycle transition ${from} → ${to}`);
    this.#state = to;
    // A failing listener must not stop a shutdown half-way: its error is reported, not thrown.
    for (const listener of this.#listeners) {
      try {
        listener(to, from);
      } catch (error) {
        process.emitWarning(`A lifecycle listener failed on ${from} → ${to}: ${String(error)}`);
      }
    }
  }

  /** Calls the listener on every transition; returns a function that removes it. */
  onTransition(listener: LifecycleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
