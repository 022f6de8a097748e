import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Each test file starts the whole service (embedded PGlite and broker included): give it time, as
  // much as a busy CI machine needs to compile PGlite's WebAssembly.
  test: { testTimeout: 60_000, hookTimeout: 60_000 },
});
