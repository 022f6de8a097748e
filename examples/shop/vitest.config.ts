import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Each file runs a shop of three processes (or the embedded demo): one file at a time on two cores.
    fileParallelism: false,
    testTimeout: 60000,
    hookTimeout: 120000,
  },
});
