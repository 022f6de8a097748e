import type { ConfigError } from '@keelson/chassis';
import { type CliEnvironment, type CliOutput, ownManifest, UsageError } from './cli-output.js';
import { add } from './commands/add.js';
import { configExplain } from './commands/config-explain.js';
import { doctor } from './commands/doctor.js';
import { newService } from './commands/new.js';
import { openapi } from './commands/openapi.js';
import { services } from './commands/services.js';
import { terminalPrompter } from './prompts/prompter.js';

const HELP = `Usage: keelson <command> [options]

Commands:
  new <name>                    Create a service from a template (http-api, worker)
  add <route|consumer|plugin>   Add a route, a consumer or a plugin to this service
  config explain                Every config key of this service: value, origin, purpose
  doctor                        Check this service's config and the servers it needs
  openapi [--out <file>]        Write this service's OpenAPI document, without starting it
  services                      List the instances in the service registry
  help                          Show this help; keelson <command> --help for a command
  version                       Print the CLI version
`;

/** Runs the CLI with the given arguments; resolves to the process exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliOutput,
  environment: Partial<CliEnvironment> = {},
): Promise<number> {
  const env: CliEnvironment = {
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    prompter: terminalPrompter,
    env: process.env,
    ...environment,
  };
  const [command = 'help', ...rest] = argv;
  try {
    switch (command) {
      case 'new':
        return await newService(rest, io, env);
      case 'add':
        return await add(rest, io, env);
      case 'config':
        return await configExplain(rest, io, env);
      case 'doctor':
        return await doctor(rest, io, env);
      case 'openapi':
        return await openapi(rest, io, env);
      case 'services':
        return await services(rest, io, env);
      case 'help':
      case '-h':
      case '--help':
        io.out(HELP);
        return 0;
      case 'version':
      case '-v':
      case '--version':
        io.out(`${ownManifest().version}\n`);
        return 0;
      default:
        io.err(`keelson: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`keelson ${command}: ${(error as Error).message}\n(see keelson ${command} --help)\n`);
      return 2;
    }
    if (Array.isArray((error as Partial<ConfigError>).violations)) {
      io.err(`keelson ${command}: ${(error as Error).message}\n`);
      return 78;
    }
    // A user pressing Ctrl-C at a prompt.
    if ((error as Error).name === 'ExitPromptError') return 130;
    io.err(`keelson ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}
