import { Writable } from 'node:stream';

/** A log destination that keeps every JSON line in memory, for assertions. */
export class LogCapture extends Writable {
  readonly #lines: string[] = [];

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.#lines.push(line);
    callback();
  }

  /** Raw lines, exactly as written. */
  get raw(): readonly string[] {
    return this.#lines;
  }

  /** Every line parsed as JSON. */
  entries(): Record<string, unknown>[] {
    return this.#lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Parsed lines whose `msg` contains the text. */
  find(text: string): Record<string, unknown>[] {
    return this.entries().filter((e) => typeof e.msg === 'string' && e.msg.includes(text));
  }
}
