import { readFileSync } from 'node:fs';
import type { CliOutput } from './cli-output.js';
import { services } from './commands/services.js';

const HELP = `Usage: keelson <command> [options]

Commands:
  services    List the instances in the service registry
  help        Show this help
  version     Print the CLI version

Options:
  -h, --help      Show this help
  -v, --version   Print the CLI version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with the given arguments; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliOutput): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'services':
      return services(rest, io);
    case 'help':
    case '-h':
    case '--help':
      io.out(HELP);
      return 0;
    case 'version':
    case '-v':
    case '--version':
      io.out(`${version()}\n`);
      return 0;
    default:
      io.err(`keelson: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
