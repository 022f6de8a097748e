import type { ConfigError } from '@keelson/chassis';
import type { CliEnvironment, CliOutput } from '../cli-output.js';
import { loadService } from '../project/load-service.js';

export const DOCTOR_HELP = `Usage: keelson doctor [--timeout <ms>] [-- <service flags>]

Checks the service in the current folder: that its configuration is valid, and that the database,
the broker and the service registry it is configured for answer. Starts nothing that serves or
consumes. Run it in a built service (npm run build), with the environment it will run with.
`;

interface Check {
  name: string;
  run(): Promise<string>;
}

/** `keelson doctor`: each check on a line, in plain words; exit code 1 when one fails. */
export async function doctor(argv: readonly string[], io: CliOutput, env: CliEnvironment): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  const at = argv.indexOf('--timeout');
  const timeoutMs = at >= 0 ? Number(argv[at + 1]) : 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error('--timeout needs a number of milliseconds');
  const serviceArgs = argv.filter((a, i) => a !== '--' && i !== at && i !== at + 1);

  let service: Awaited<ReturnType<typeof loadService>>;
  try {
    service = await loadService(env.cwd, serviceArgs, env.env);
  } catch (error) {
    // Duck-typed: the service loads its own copy of the chassis, whose ConfigError is another class.
    const violations = (error as Partial<ConfigError>).violations;
    if (!Array.isArray(violations)) throw error;
    io.out('✗ configuration: invalid\n');
    for (const v of violations)
      io.out(`    ${v.key}: ${v.problem}${v.origin ? ` (from ${v.origin})` : ''}\n`);
    return 1;
  }
  io.out(`✓ configuration: valid (${service.config.explain().length} keys, env ${service.env})\n`);

  const checks: Check[] = [
    {
      name: 'database',
      run: async () => {
        await withTimeout(service.db.query('select 1'), timeoutMs, 'the database did not answer');
        return `answers (${service.db.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`;
      },
    },
    {
      name: 'broker',
      run: async () => {
        if (service.messaging.transport === 'in-process') return 'in-process (no broker configured)';
        await service.messaging.connect(timeoutMs);
        return 'RabbitMQ answers';
      },
    },
    {
      name: 'registry',
      run: async () => {
        const backend = service.config.get('registry.backend');
        if (backend === 'none') return 'none configured';
        const instances = await withTimeout(
          service.discovery.all(),
          timeoutMs,
          `the ${backend} registry did not answer`,
        );
        return `${backend} answers (${instances.length} instances registered)`;
      },
    },
  ];
  let failed = 0;
  for (const check of checks) {
    try {
      io.out(`✓ ${check.name}: ${await check.run()}\n`);
    } catch (error) {
      failed++;
      io.out(`✗ ${check.name}: ${plain(error)}\n`);
    }
  }
  await service.stop();
  io.out(failed === 0 ? 'Everything answers.\n' : `${failed} of ${checks.length} checks failed.\n`);
  return failed === 0 ? 0 : 1;
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    }),
  ]);
}

/** The error's message, with the causes Node's network errors hide in `code` and `errors`. */
function plain(error: unknown): string {
  const e = error as Error & { code?: string; errors?: Error[] };
  const inner = e.errors?.map((x) => x.message).join('; ');
  return [
    e.message || String(error),
    e.code && !e.message?.includes(e.code) ? `(${e.code})` : '',
    inner ? `: ${inner}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
