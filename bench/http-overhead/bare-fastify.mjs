// The baseline: fastify with nothing added, serving the same route as chassis.mjs.
import { fastify } from 'fastify';
import { serveForRunner } from '../lib/server-child.mjs';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

// No logger: the baseline is the framework alone.
const app = fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));

await app.listen({ host: '127.0.0.1', port });
// Closed on SIGTERM before exiting, so that `node --cpu-prof` writes its profile.
serveForRunner(app.server.address().port, () => app.close());
