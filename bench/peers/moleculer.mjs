// GET /hello on Moleculer 0.14: moleculer-web's API gateway calling a local `greeter.hello` action,
// with no transporter (one node), and Moleculer's logger, metrics and tracing off.
import { ServiceBroker } from 'moleculer';
import ApiGateway from 'moleculer-web';

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
process.stdout.write(`${JSON.stringify({ port: api.server.address().port })}\n`);

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  broker.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The runner holds our stdin open; when it closes, the runner is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
