import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The embedded PostgreSQL (PGlite) takes a few seconds to start on a busy machine.
  test: { testTimeout: 30000 },
});
