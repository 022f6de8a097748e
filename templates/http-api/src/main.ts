import { build__Name__ } from './service.js';

// Configuration comes from config/*.json, the environment and flags; SIGTERM stops the service in order.
const svc = await build__Name__();
await svc.start();
