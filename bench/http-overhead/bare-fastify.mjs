// The baseline: fastify with nothing added, serving the same route as chassis.mjs.
import { fastify } from 'fastify';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

// No logger: the baseline is the framework alone.
const app = fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));

await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  // A normal exit (not death by signal) lets `node --cpu-prof` write its profile.
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The runner holds our stdin open; when it closes, the runner is gone, even if it was SIGKILLed.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
