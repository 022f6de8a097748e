import type { CreateServiceOptions } from '@keelson/chassis';
import { createInventoryService } from './inventory/inventory-service.js';
import { createNotificationsService } from './notifications/notifications-service.js';
import { createOrdersService } from './orders/orders-service.js';
import type { ShopServiceName } from './shop-services.js';

export type ShopServiceOptions = Pick<CreateServiceOptions<{}>, 'env' | 'argv'>;

/** Creates one of the shop's services by name. */
export function createShopService(name: ShopServiceName, options: ShopServiceOptions = {}) {
  switch (name) {
    case 'orders':
      return createOrdersService(options);
    case 'inventory':
      return createInventoryService(options);
    case 'notifications':
      return createNotificationsService(options);
  }
}
