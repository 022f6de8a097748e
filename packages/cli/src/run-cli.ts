import type { ConfigError } from '@keelson/chassis';
import { type CliEnvironment, type CliOutput, ownManifest, UsageError } from './cli-output.js';
import { ADD_HELP, add } from './commands/add.js';
import { CONFIG_HELP, configExplain } from './commands/config-explain.js';
import { DOCTOR_HELP, doctor } from './commands/doctor.js';
import { NEW_HELP, newService } from './commands/new.js';
import { OPENAPI_HELP, openapi } from './commands/openapi.js';
import { SERVICES_HELP, services } from './commands/services.js';
import { terminalPrompter } from './prompts/prompter.js';

const HELP = `Usage: keelson <command> [options]

Commands:
  new <name|path>               Create a service from a template (http-api, worker)
  add <route|consumer|plugin>   Add a route, a consumer or a plugin to this service
  config explain                Every config key of this service: value, origin, purpose
  doctor                        Check this service's config and the servers it needs
  openapi [--out <file>]        Write this service's OpenAPI document, without starting it
  services                      List the instances in the service registry
  help [command]                This help, or a command's: keelson help new, keelson new --help
  version                       Print the CLI version

Exit codes: 0 success, 1 failure, 2 usage mistake, 78 invalid service configuration.
`;

const VERSION_HELP = `Usage: keelson version (also: keelson --version, keelson -v)

Prints the version of this CLI.
`;

type Command = (argv: readonly string[], io: CliOutput, env: CliEnvironment) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  new: { run: newService, help: NEW_HELP },
  add: { run: add, help: ADD_HELP },
  config: { run: configExplain, help: CONFIG_HELP },
  doctor: { run: doctor, help: DOCTOR_HELP },
  openapi: { run: openapi, help: OPENAPI_HELP },
  services: { run: services, help: SERVICES_HELP },
  version: {
    run: async (argv, io) => {
      if (argv.length > 0) throw new UsageError(`unexpected arguments: ${argv.join(' ')}`);
      io.out(`${ownManifest().version}\n`);
      return 0;
    },
    help: VERSION_HELP,
  },
};
const ALIASES: Record<string, string> = { '-v': 'version', '--version': 'version' };

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
  const [given = 'help', ...rest] = argv;
  const name = ALIASES[given] ?? given;
  if (name === 'help' || name === '-h' || name === '--help') return help(rest, io);
  const command = COMMANDS[name];
  if (!command) {
    io.err(`keelson: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  if (rest.length > 0 && (rest[0] === '--help' || rest[0] === '-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io, env);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`keelson ${name}: ${(error as Error).message}\n(see keelson ${name} --help)\n`);
      return 2;
    }
    if (Array.isArray((error as Partial<ConfigError>).violations)) {
      io.err(`keelson ${name}: ${(error as Error).message}\n`);
      return 78;
    }
    // A user pressing Ctrl-C at a prompt.
    if ((error as Error).name === 'ExitPromptError') return 130;
    io.err(`keelson ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

/** `keelson help [command]`. */
function help(argv: readonly string[], io: CliOutput): number {
  const [topic, ...extra] = argv;
  if (topic === undefined || topic === '--help' || topic === '-h') {
    io.out(HELP);
    return 0;
  }
  const command = COMMANDS[ALIASES[topic] ?? topic];
  if (!command || extra.length > 0) {
    io.err(`keelson help: no command "${argv.join(' ')}"\n\n${HELP}`);
    return 2;
  }
  io.out(command.help);
  return 0;
}
