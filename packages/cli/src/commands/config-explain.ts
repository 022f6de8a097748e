import { type CliEnvironment, type CliOutput, UsageError } from '../cli-output.js';
import { loadService } from '../project/load-service.js';

export const CONFIG_HELP = `Usage: keelson config explain [--json] [-- <service flags>]

Prints every configuration key of the service in the current folder: its value (sensitive ones
redacted), where the value came from (default, a config file, env, a flag) and what it is for.
Run it in a built service (npm run build), with the environment it runs with: NODE_ENV selects
config/<NODE_ENV>.json; flags after -- are the service's own (--http.port 8080).

Options:
  --json       one JSON array, an object per key: key, value, origin, doc, sensitive
  -h, --help   this help

Exit codes: 0 printed, 1 the service cannot be loaded, 2 usage mistake, 78 invalid configuration.
`;

/** `keelson config explain`. */
export async function configExplain(
  argv: readonly string[],
  io: CliOutput,
  env: CliEnvironment,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'explain')
    throw new UsageError(
      sub ? `unknown subcommand "${sub}": explain` : 'keelson config needs a subcommand: explain',
    );
  const at = rest.indexOf('--');
  const own = at < 0 ? rest : rest.slice(0, at);
  if (own.includes('--help') || own.includes('-h')) {
    io.out(CONFIG_HELP);
    return 0;
  }
  const unknown = own.filter((a) => a !== '--json');
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}: service flags go after --`);
  const json = own.includes('--json');
  const serviceArgs = at < 0 ? [] : rest.slice(at + 1);
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
