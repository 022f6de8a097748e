/**
 * Runs the action once the notices stop for a while: every `notify()` restarts the wait. The wait
 * is read on every notice, so a changed debounce setting applies to the next burst.
 */
export class Debouncer {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly waitMs: () => number,
    private readonly action: () => void,
  ) {}

  notify(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.action();
    }, this.waitMs());
    // A pending reload must not keep the process alive on its own.
    this.#timer.unref();
  }

  /** Drops a pending run and ignores every later notice. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
