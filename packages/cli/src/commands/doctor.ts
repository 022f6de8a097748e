import type { ConfigError } from '@keelson/chassis';
import { type CliEnvironment, type CliOutput, UsageError } from '../cli-output.js';
import { bounded } from '../diagnostics/bounded.js';
import { SocketTracker } from '../diagnostics/socket-tracker.js';
import { loadService } from '../project/load-service.js';

export const DOCTOR_HELP = `Usage: keelson doctor [--timeout <ms>] [-- <service flags>]

Checks the service in the current folder: that its configuration is valid, and that the database,
the broker and the service registry it is configured for answer. Starts nothing that serves or
consumes. Run it in a built service (npm run build), with the environment it will run with.

The checks run side by side, each given --timeout ms (default 5000) to answer; a server that
accepts a connection and never answers fails its check. Closing what the checks opened is given
--timeout ms as well, so doctor ends within about twice --timeout. Exit code 0 when everything
answers, 1 when a check fails, 2 on a usage mistake.

Options:
  --timeout <ms>   how long each check may take (default 5000)
  -h, --help       this help
`;

interface Check {
  name: string;
  run(): Promise<string>;
}

/** `keelson doctor`: each check on a line, in plain words; exit code 1 when one fails. */
export async function doctor(argv: readonly string[], io: CliOutput, env: CliEnvironment): Promise<number> {
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (own.includes('--help') || own.includes('-h')) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  const at = own.indexOf('--timeout');
  const timeoutMs = at >= 0 ? Number(own[at + 1]) : 5000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout needs a whole number of milliseconds, not "${own[at + 1] ?? ''}"`);
  const serviceArgs = argv.filter((a, i) => a !== '--' && (at < 0 || (i !== at && i !== at + 1)));

  // Every socket the service opens from here on, so that nothing it leaves hanging outlives doctor.
  const sockets = new SocketTracker();
  try {
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
          await service.db.query('select 1');
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
          const instances = await service.discovery.all();
          return `${backend} answers (${instances.length} instances registered)`;
        },
      },
    ];
    const results = await Promise.allSettled(
      checks.map((check) => bounded(check.run(), timeoutMs, `no answer from the ${check.name}`)),
    );
    let failed = 0;
    results.forEach((result, i) => {
      const name = checks[i]?.name;
      if (result.status === 'fulfilled') io.out(`✓ ${name}: ${result.value}\n`);
      else {
        failed++;
        io.out(`✗ ${name}: ${plain(result.reason)}\n`);
      }
    });
    // A client stuck on a silent server may never finish closing: its sockets go first, then the
    // service closes (bounded), and whatever it connected meanwhile (a reconnect) goes in `finally`.
    sockets.destroyOpen();
    await bounded(service.stop(), timeoutMs, 'closing').catch(() => undefined);
    io.out(failed === 0 ? 'Everything answers.\n' : `${failed} of ${checks.length} checks failed.\n`);
    return failed === 0 ? 0 : 1;
  } finally {
    sockets.stop();
  }
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
