// The same route as bare-fastify.mjs on a chassis service with default settings. The runner sets
// HTTP_HOST=127.0.0.1 and HTTP_PORT=0; any other chassis variable in its environment passes
// through, which is how single features are switched off to attribute their cost.
import { createService } from '@keelson/chassis';
import { serveForRunner } from '../lib/server-child.mjs';

process.env.HTTP_HOST ??= '127.0.0.1';
process.env.HTTP_PORT ??= '0';

const svc = await createService({ name: 'bench', handleProcess: true });
svc.http.get('/hello', async () => ({ hello: 'world' }));
await svc.start();

// SIGTERM and SIGINT stay the chassis's own (a graceful stop); the port line has no `level`,
// so the runner tells it from the log lines around it.
serveForRunner(svc.http.server.address().port);
