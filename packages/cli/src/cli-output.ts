/** Where the CLI writes: the process streams, or a buffer in tests. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}
