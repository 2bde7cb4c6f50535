/**
 * The GPU suite: `npx vitest run -c tests/gpu/vitest.config.ts`. Node WebGPU (Dawn over
 * SwiftShader) needs these variables before the test processes start, so they are set here,
 * in the parent, and inherited by the forks.
 */
import { defineConfig } from 'vitest/config';

const dir = '/usr/lib/chromium';
process.env.LD_LIBRARY_PATH = [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
process.env.VK_ICD_FILENAMES = `${dir}/vk_swiftshader_icd.json`;

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/gpu/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Two cores: one GPU test file at a time keeps SwiftShader from starving itself.
    fileParallelism: false,
  },
});
