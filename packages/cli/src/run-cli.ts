import { readFileSync } from 'node:fs';

const HELP = `Usage: keelson <command> [options]

Commands:
  help        Show this help
  version     Print the CLI version

Options:
  -h, --help      Show this help
  -v, --version   Print the CLI version
`;

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with the given arguments; returns the process exit code. */
export function runCli(argv: readonly string[], io: CliOutput): number {
  const [command = 'help'] = argv;
  switch (command) {
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
