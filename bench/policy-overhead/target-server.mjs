// The downstream of the policy-overhead benchmark: a bare node:http server answering a small JSON
// body, in its own process so that its CPU does not compete with the client under test.
import { createServer } from 'node:http';

const body = JSON.stringify({ sku: 'A-1', stock: 42 });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
