/**
 * The e2e suite: `npx vitest run -c tests/e2e/vitest.config.ts`. Builds the extension once
 * (global setup), then each file drives its own headless Chromium with the built extension.
 * One file at a time: two cores cannot hold two browsers at 30 fps.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/e2e/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
