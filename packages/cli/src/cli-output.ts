import type { Prompter } from './prompts/prompter.js';

/** Where the CLI writes: the process streams, or a buffer in tests. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** What the CLI uses from its surroundings; tests replace parts of it. */
export interface CliEnvironment {
  cwd: string;
  /** True when a person can answer questions. */
  interactive: boolean;
  prompter: Prompter;
  env: NodeJS.ProcessEnv;
}
