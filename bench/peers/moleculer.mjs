// GET /hello on Moleculer 0.14: moleculer-web's API gateway calling a local `greeter.hello` action,
// with no transporter (one node), and Moleculer's logger, metrics and tracing off.
import { ServiceBroker } from 'moleculer';
import ApiGateway from 'moleculer-web';
import { serveForRunner } from '../lib/server-child.mjs';

const broker = new ServiceBroker({ nodeID: 'bench', logger: false, metrics: false, tracing: false });
broker.createService({
  name: 'greeter',
  actions: {
    hello() {
      return { hello: 'world' };
    },
  },
});
const api = broker.createService({
  name: 'api',
  mixins: [ApiGateway],
  settings: {
    ip: '127.0.0.1',
    port: Number(process.env.PORT ?? 0),
    routes: [{ path: '/', mappingPolicy: 'restrict', aliases: { 'GET hello': 'greeter.hello' } }],
  },
});

await broker.start();
// Closed on SIGTERM before exiting, so that `node --cpu-prof` writes its profile.
serveForRunner(api.server.address().port, () => broker.stop());
