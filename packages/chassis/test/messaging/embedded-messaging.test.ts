import { describeMessagingBehaviour } from '../support/messaging-behaviour.js';

// The embedded defaults: PGlite (PostgreSQL in-process) and the in-process transport.
describeMessagingBehaviour({
  name: 'PGlite + in-process transport',
  overrides: () => ({ db: { url: '' }, messaging: { url: '' } }),
});
