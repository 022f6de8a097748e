import { fileURLToPath } from 'node:url';

/** The names of the shop's services. */
export const SHOP_SERVICES = ['inventory', 'notifications', 'orders'] as const;
export type ShopServiceName = (typeof SHOP_SERVICES)[number];

/** `examples/shop/config/<service>`: each service has its own config files (the same from src and dist). */
export function configDir(service: ShopServiceName): string {
  return fileURLToPath(new URL(`../config/${service}`, import.meta.url));
}
