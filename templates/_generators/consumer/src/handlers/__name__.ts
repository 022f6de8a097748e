import type { BuiltInConfig, IncomingMessage, Service } from '@keelson/chassis';

export const __NAME_CONSTANT___TOPIC = '__topic__';

export interface __Name__Payload {
  id: string;
}

/** What a `__topic__` message does: the logic, apart from how the message arrives. */
export async function handle__Name__(message: IncomingMessage<__Name__Payload>): Promise<string> {
  if (typeof message.payload?.id !== 'string') throw new TypeError('the payload has no id');
  return message.payload.id;
}

/** Consumes `__topic__`: failures are retried with a delay, then dead-lettered. */
export function register__Name__Consumer(svc: Pick<Service<BuiltInConfig>, 'messaging' | 'log'>): void {
  svc.messaging.consume<__Name__Payload>(__NAME_CONSTANT___TOPIC, async (message) => {
    const id = await handle__Name__(message);
    svc.log.info({ id, messageId: message.id }, 'handled __topic__');
  });
}
