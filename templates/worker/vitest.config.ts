import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Each test file starts the whole service (embedded PGlite and broker included): give it time.
  test: { testTimeout: 20_000, hookTimeout: 20_000 },
});
