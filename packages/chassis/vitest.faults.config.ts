import { defineConfig } from 'vitest/config';

// Fault tests stop and start the shared PostgreSQL and RabbitMQ: they run alone, after the others.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120000,
    hookTimeout: 120000,
  },
});
