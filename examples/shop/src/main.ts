import { createShopService } from './create-shop-service.js';
import { SHOP_SERVICES, type ShopServiceName } from './shop-services.js';

// One service per process: `node dist/main.js <orders|inventory|notifications> [--flags]`.
const [name, ...argv] = process.argv.slice(2);
if (!SHOP_SERVICES.includes(name as ShopServiceName)) {
  process.stderr.write(`usage: main.js <${SHOP_SERVICES.join('|')}> [--config.key value ...]\n`);
  process.exit(64);
}
const svc = await createShopService(name as ShopServiceName, { argv });
await svc.start();
