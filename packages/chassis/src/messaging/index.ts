export { messagingConfigSchema } from './config-schema.js';
export type { HandlerContext, MessageHandler, WithoutMessageId } from './consumer.js';
export { InProcessBroker, InProcessTransport } from './in-process-transport.js';
export { encodeMessage, type IncomingMessage, type OutgoingMessage } from './message.js';
export { type ConsumeOptions, Messaging } from './messaging.js';
export { messagingPlugin } from './messaging-plugin.js';
export {
  DEAD_LETTER_HEADERS,
  type Delivery,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportMessage,
  UnroutableError,
} from './transport-port.js';
