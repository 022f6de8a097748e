import { listRegisteredInstances, type ServiceInstance } from '@keelson/chassis';
import type { CliEnvironment, CliOutput } from '../cli-output.js';

export const SERVICES_HELP = `Usage: keelson services [--json] [--registry.<key> <value> ...]

Lists every instance the service registry holds, with its state. The registry is chosen as a
service chooses it: REGISTRY_* environment variables or --registry.* flags, e.g.
  keelson services --registry.backend etcd --registry.etcd.endpoints http://127.0.0.1:2379

Options:
  --json             one JSON array, an object per instance
  --registry.<key>   any registry.* configuration key (see docs/registry.md)
  -h, --help         this help

Exit codes: 0 listed, 1 the registry cannot be read or its settings are invalid.
`;

/** `keelson services`: what the registry holds, as a table or as JSON. */
export async function services(argv: readonly string[], io: CliOutput, env: CliEnvironment): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(SERVICES_HELP);
    return 0;
  }
  const json = argv.includes('--json');
  let instances: ServiceInstance[];
  try {
    instances = await listRegisteredInstances({ argv: argv.filter((a) => a !== '--json'), env: env.env });
  } catch (error) {
    io.err(`keelson services: ${(error as Error).message}\n`);
    return 1;
  }
  instances.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  if (json) {
    io.out(`${JSON.stringify(instances, null, 2)}\n`);
    return 0;
  }
  if (instances.length === 0) {
    io.out('no instances registered\n');
    return 0;
  }
  const rows = [
    ['SERVICE', 'INSTANCE', 'STATE', 'URL', 'VERSION'],
    ...instances.map((i) => [i.service, i.id, i.state, i.url, i.version]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows)
    io.out(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}
