/**
 * npm run bench: the renderer's GPU bench (bench/run.ts), then the landmark generator's
 * speed budget (bench/generator.ts). Each runs in its own process (run.ts re-executes itself
 * with the WebGPU environment and ends with process.exit), and one failing does not hide the
 * other's figures; the exit status is non-zero when either failed.
 * Arguments after `--` go to bench/run.ts, as before.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = (file: string, args: string[]): number => {
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(here, file), ...args], { stdio: 'inherit' });
  if (r.error) console.error(`bench/${file}: ${r.error.message}`);
  return r.status ?? 1;
};

const gpu = run('run.ts', process.argv.slice(2));
const generator = run('generator.ts', []);
const fastMode = run('fast.ts', []);
const fastGpu = run('fast-gpu.ts', []); // fast mode on WebGPU (SwiftShader here) vs exact, one run
const fastChromium = run('fast-chromium.ts', []); // the same in the extension's render worker in headless Chromium, and what 'auto' keeps
const train = run('train.ts', []); // training kernels (grid-encoding backward scatter)
const prepare = run('prepare.ts', ['50', '512']); // subject preparation frames per second (issue 10)
const prepareChromium = run('prepare-chromium.ts', ['50', '512']); // the same in the extension's worker in headless Chromium, with the Node figure and ratio
const builtin = run('builtin.ts', []); // the built-in avatar on the CPU reference (issue 11)
if (gpu !== 0) console.error(`bench/run.ts exited with status ${gpu}`);
if (generator !== 0) console.error(`bench/generator.ts exited with status ${generator}`);
if (fastMode !== 0) console.error(`bench/fast.ts exited with status ${fastMode}`);
if (fastGpu !== 0) console.error(`bench/fast-gpu.ts exited with status ${fastGpu}`);
if (fastChromium !== 0) console.error(`bench/fast-chromium.ts exited with status ${fastChromium}`);
if (prepare !== 0) console.error(`bench/prepare.ts exited with status ${prepare}`);
if (prepareChromium !== 0) console.error(`bench/prepare-chromium.ts exited with status ${prepareChromium}`);
if (builtin !== 0) console.error(`bench/builtin.ts exited with status ${builtin}`);
process.exit(gpu !== 0 || generator !== 0 || train !== 0 || fastMode !== 0 || fastGpu !== 0 || fastChromium !== 0 || prepare !== 0 || prepareChromium !== 0 || builtin !== 0 ? 1 : 0);
