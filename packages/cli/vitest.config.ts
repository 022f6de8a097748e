import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20000,
    // The end-to-end test installs generated services: minutes, not seconds.
    hookTimeout: 300000,
  },
});
