// The same route as bare-fastify.mjs on a chassis service with default settings. The runner sets
// HTTP_HOST=127.0.0.1 and HTTP_PORT=0; any other chassis variable in its environment passes
// through, which is how single features are switched off to attribute their cost.
import { createService } from '@keelson/chassis';

process.env.HTTP_HOST ??= '127.0.0.1';
process.env.HTTP_PORT ??= '0';

const svc = await createService({ name: 'bench', handleProcess: true });
svc.http.get('/hello', async () => ({ hello: 'world' }));
await svc.start();

// A line the runner can tell from the JSON log lines around it: it has no `level`.
process.stdout.write(`${JSON.stringify({ port: svc.http.server.address().port })}\n`);

// SIGTERM and SIGINT are the chassis's own (graceful stop, then exit). The runner holds our stdin
// open; when it closes, the runner is gone, even if it was SIGKILLed. Exit at once then: a
// graceful stop would log to a stdout nobody reads any more.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
