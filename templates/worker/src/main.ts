import { build__Name__ } from './service.js';

// Configuration comes from config/*.json, the environment and flags; SIGTERM stops the service in
// order: consumers finish the messages in hand before the connections close.
const svc = await build__Name__();
await svc.start();
