import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Fault tests restart the shared servers: vitest.faults.config.ts runs them on their own.
    exclude: ['test/faults/**', '**/node_modules/**'],
    globalSetup: ['./test/global-setup.ts'],
    // Two cores: keep the worker count small; integration tests spawn processes of their own.
    maxWorkers: 2,
    testTimeout: 20000,
    hookTimeout: 120000,
  },
});
