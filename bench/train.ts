/**
 * npm run bench (training part), on the adapter at hand: the grid-encoding backward scatter
 * (bench/train-scatter.ts), head training steps (bench/train-steps.ts) and torso training steps
 * (bench/train-torso.ts) of the WebGPU backend vs the CPU backend, and the time a head stage
 * takes to a held-out PSNR on a small synthetic subject on each (bench/train-psnr.ts). Re-executes itself with the SwiftShader env when Node WebGPU is not
 * configured.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeGpu, nodeGpuConfigured, WEBGPU_ENV } from '../tests/helpers/webgpu.ts';

if (!nodeGpuConfigured() && !process.env.R2T_NATIVE_VULKAN && !process.env.R2T_BENCH_CHILD) {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ...WEBGPU_ENV, R2T_BENCH_CHILD: '1' } });
  process.exit(r.status ?? 1);
}

const { acquireGpu } = await import('../worker/gpu/device.ts');
const { benchScatter } = await import('./train-scatter.ts');
const { benchSteps, benchTrainSettings } = await import('./train-steps.ts');
const { benchTorsoSteps } = await import('./train-torso.ts');
const { benchTimeToPsnr } = await import('./train-psnr.ts');

const ctx = await acquireGpu({ gpu: await nodeGpu() });
await benchSteps(ctx);
const settings = benchTrainSettings(ctx);
await benchTorsoSteps(ctx, settings.preset, settings.steps);
await benchScatter(ctx);
await benchTimeToPsnr(ctx);
ctx.device.destroy();
process.exit(0);
