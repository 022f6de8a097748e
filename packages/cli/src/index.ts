export type { CliEnvironment, CliOutput } from './cli-output.js';
export type { Choice, Prompter } from './prompts/prompter.js';
export { runCli } from './run-cli.js';
export { runMain } from './run-main.js';
