import type { CliOutput } from './cli-output.js';
import { runCli } from './run-cli.js';

/**
 * Runs the CLI as a process: writes to stdout and stderr, and exits with the command's code once
 * its output is flushed, so that nothing a command leaves behind (a driver's reconnect timer) keeps
 * the process alive. A reader that goes away (`keelson new x | head`) is no error: the command
 * finishes its work and the rest of its output is dropped.
 */
export async function runMain(argv: readonly string[]): Promise<never> {
  const io: CliOutput = { out: writer(process.stdout), err: writer(process.stderr) };
  const code = await runCli(argv, io);
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

function writer(stream: NodeJS.WriteStream): (text: string) => void {
  let open = true;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    open = false;
  });
  return (text) => {
    if (open && !stream.destroyed) stream.write(text);
  };
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}
