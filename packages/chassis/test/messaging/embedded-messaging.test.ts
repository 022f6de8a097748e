import { InProcessBroker } from '../../src/index.js';
import { describeMessagingBehaviour } from '../support/messaging-behaviour.js';

// The embedded defaults: PGlite (PostgreSQL in-process) and the in-process transport.
describeMessagingBehaviour({
  name: 'PGlite + in-process transport',
  overrides: () => ({ db: { url: '' }, messaging: { url: '' } }),
  // What a producer that sets nothing gives the broker: no id, no content type.
  publishPlain: async (message) => {
    const routed = InProcessBroker.shared.publish({
      id: message.messageId ?? '',
      topic: message.topic,
      timestamp: Date.now(),
      source: '',
      contentType: message.contentType ?? '',
      headers: message.headers ?? {},
      body: message.body,
    });
    if (!routed) throw new Error(`no queue bound for ${message.topic}`);
  },
});
