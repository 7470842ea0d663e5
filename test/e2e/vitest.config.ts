// The end-to-end suite (npm run test:e2e): built renderer in Debian's Chromium over the test
// bridge, and Electron itself when its binary is present. One file at a time: each drives a browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 180000,
    hookTimeout: 180000,
    pool: 'forks',
    fileParallelism: false,
  },
});
