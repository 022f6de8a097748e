/**
 * The end of every benchmark server child: tell the runner the port (one JSON line on stdout), then
 * stay up until the runner is gone (its end of our stdin closes, even if it was SIGKILLed). With
 * `close`, SIGTERM and SIGINT close the server first and exit normally, which lets `node --cpu-prof`
 * write its profile; without it, the server's own signal handling applies (the chassis's).
 */
export function serveForRunner(port, close) {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  if (close) {
    let closing = false;
    const shutdown = () => {
      if (closing) return;
      closing = true;
      Promise.resolve(close()).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  }
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
