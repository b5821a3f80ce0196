import { defineConfig } from 'vitest/config';

/** Browser tests: Debian's Chromium driven by playwright-core against a real portal process. */
export default defineConfig({
  resolve: {
    alias: { '~': new URL('./app', import.meta.url).pathname },
  },
  test: {
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    env: { NODE_ENV: 'test' },
  },
});
