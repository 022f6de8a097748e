import type { CliEnvironment, CliOutput } from '../cli-output.js';
import { loadService } from '../project/load-service.js';

export const CONFIG_HELP = `Usage: keelson config explain [--json] [--env <name>] [-- <service flags>]

Prints every configuration key of the service in the current folder: its value (sensitive ones
redacted), where the value came from (default, a config file, env, a flag) and what it is for.
Run it in a built service (npm run build).
`;

/** `keelson config explain`. */
export async function configExplain(
  argv: readonly string[],
  io: CliOutput,
  env: CliEnvironment,
): Promise<number> {
  if (argv[0] !== 'explain' || argv.includes('--help') || argv.includes('-h')) {
    io.out(CONFIG_HELP);
    return argv[0] === 'explain' ? 0 : 2;
  }
  const rest = argv.slice(1);
  const json = rest.includes('--json');
  const serviceArgs = rest.filter((a) => a !== '--json' && a !== '--');
  const service = await loadService(env.cwd, serviceArgs, env.env);
  const entries = service.config.explain();
  if (json) {
    io.out(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  const rows = entries.map((e) => [e.key, show(e.value), e.origin]);
  const widths = [0, 1].map((c) => Math.min(48, Math.max(...rows.map((r) => (r[c] ?? '').length), 5)));
  io.out(`${'KEY'.padEnd(widths[0] ?? 0)}  ${'VALUE'.padEnd(widths[1] ?? 0)}  ORIGIN\n`);
  for (const [key, value, origin] of rows)
    io.out(`${(key ?? '').padEnd(widths[0] ?? 0)}  ${(value ?? '').padEnd(widths[1] ?? 0)}  ${origin}\n`);
  return 0;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}
