import { createHelloService } from './hello-service.js';

const svc = await createHelloService();
await svc.start();
