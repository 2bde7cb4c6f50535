/**
 * npm run bench: the renderer's GPU bench (bench/run.ts), then the landmark generator's
 * speed budget (bench/generator.ts). Each runs in its own process (run.ts re-executes itself
 * with the WebGPU environment and ends with process.exit), and one failing does not hide the
 * other's figures; the exit status is non-zero when either failed.
 * Arguments after `--` go to bench/run.ts, as before. It starts with the date and the machine and
 * ends with each section's wall time: on a software adapter (SwiftShader) every section picks
 * sizes and frame counts that let the whole run finish on a 2-core box.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const t0 = Date.now();
const took: string[] = [];
const run = (file: string, args: string[], env: Record<string, string> = {}): number => {
  const start = Date.now();
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(here, file), ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) console.error(`bench/${file}: ${r.error.message}`);
  took.push(`${file} ${((Date.now() - start) / 1000).toFixed(0)} s`);
  return r.status ?? 1;
};
console.log(`npm run bench, ${new Date().toISOString()}: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}, Node ${process.version}`);

const gpu = run('run.ts', process.argv.slice(2));
const generator = run('generator.ts', []);
// 4 s sequences here so that the whole bench finishes on a 2-core box (R2T_FAST_SECONDS=10 for the 10 s figure).
const fastMode = run('fast.ts', [], { R2T_FAST_SECONDS: process.env.R2T_FAST_SECONDS ?? '4' });
const fastGpu = run('fast-gpu.ts', []); // fast mode on WebGPU (SwiftShader here) vs exact, one run
const fastChromium = run('fast-chromium.ts', []); // the same in the extension's render worker in headless Chromium, and what 'auto' keeps
const train = run('train.ts', []); // training kernels (grid-encoding backward scatter)
const prepare = run('prepare.ts', ['50', '512']); // subject preparation frames per second (issue 10)
const prepareChromium = run('prepare-chromium.ts', ['50', '512']); // the same in the extension's worker in headless Chromium, with the Node figure and ratio
const builtin = run('builtin.ts', []); // the built-in avatar on the CPU reference (issue 11)
const cpuPool = run('cpu-pool.ts', []); // the CPU fallback's fast frames on one thread vs the render pool (issue 14)
console.log(`\nnpm run bench took ${((Date.now() - t0) / 60000).toFixed(1)} min: ${took.join(', ')}; load average now ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
if (gpu !== 0) console.error(`bench/run.ts exited with status ${gpu}`);
if (generator !== 0) console.error(`bench/generator.ts exited with status ${generator}`);
if (fastMode !== 0) console.error(`bench/fast.ts exited with status ${fastMode}`);
if (fastGpu !== 0) console.error(`bench/fast-gpu.ts exited with status ${fastGpu}`);
if (fastChromium !== 0) console.error(`bench/fast-chromium.ts exited with status ${fastChromium}`);
if (prepare !== 0) console.error(`bench/prepare.ts exited with status ${prepare}`);
if (prepareChromium !== 0) console.error(`bench/prepare-chromium.ts exited with status ${prepareChromium}`);
if (builtin !== 0) console.error(`bench/builtin.ts exited with status ${builtin}`);
if (cpuPool !== 0) console.error(`bench/cpu-pool.ts exited with status ${cpuPool}`);
if (train !== 0) console.error(`bench/train.ts exited with status ${train}`);
process.exit(gpu !== 0 || generator !== 0 || train !== 0 || fastMode !== 0 || fastGpu !== 0 || fastChromium !== 0 || prepare !== 0 || prepareChromium !== 0 || builtin !== 0 || cpuPool !== 0 ? 1 : 0);
