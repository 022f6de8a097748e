import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliEnvironment, CliOutput } from '../cli-output.js';
import { loadService } from '../project/load-service.js';

export const OPENAPI_HELP = `Usage: keelson openapi [--out <file>] [-- <service flags>]

Writes the OpenAPI document of the service in the current folder, as JSON: to standard output,
or to <file>. The service is built as it would start, with its configuration (files, environment,
flags), but it neither listens nor connects to anything, so CI can write the document and compare
it with the one committed. Run it in a built service (npm run build).
`;

/** `keelson openapi`. */
export async function openapi(argv: readonly string[], io: CliOutput, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(OPENAPI_HELP);
    return 0;
  }
  const service = await loadService(env.cwd, positionals, env.env);
  try {
    const text = `${JSON.stringify(await service.openapi.document(), null, 2)}\n`;
    if (values.out === undefined) io.out(text);
    else {
      writeFileSync(resolve(env.cwd, values.out), text);
      io.out(`wrote ${values.out}\n`);
    }
  } finally {
    await service.stop('the OpenAPI document is written');
  }
  return 0;
}
