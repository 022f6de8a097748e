export type { CliOutput } from './cli-output.js';
export { runCli } from './run-cli.js';
