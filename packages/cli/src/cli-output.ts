import { readFileSync } from 'node:fs';
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

/** A mistake in how a command was called: printed with a hint to --help, exit code 2. */
export class UsageError extends Error {}

/** This CLI's own package.json: its version, and the chassis version it was released with. */
export function ownManifest(): { version: string; dependencies: Record<string, string> } {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
}
