/**
 * npm run bench (fast mode on WebGPU): GpuFastRenderer against the exact GpuRenderer on the same
 * device, frame by frame over the demo head's talking sequence with head motion, in one run:
 * wall time per frame and its ratio (rgba read back by both, as the CLI does), head-net
 * multiply-adds per frame (samples the field ran on), PSNR of fast against exact.
 * R2T_FAST_GPU_SIZE (default 64) image side; R2T_FAST_GPU_FRAMES (default 25) frames;
 * R2T_FAST_GPU_AVATAR demo (default), builtin (the trained avatar with its torso, resized, on
 * the head-motion sequence of bench/fast.ts; the torso nets' multiply-adds are reported too) or
 * bench (the trained bench avatar, official networks with 2^13 tables, likewise).
 * On machines without a GPU this is SwiftShader (the figures say so).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeGpu, nodeGpuConfigured, WEBGPU_ENV } from '../tests/helpers/webgpu.ts';

if (!nodeGpuConfigured() && !process.env.R2T_NATIVE_VULKAN && !process.env.R2T_BENCH_CHILD) {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ...WEBGPU_ENV, R2T_BENCH_CHILD: '1' } });
  process.exit(r.status ?? 1);
}

const { acquireGpu } = await import('../worker/gpu/device.ts');
const { GpuRenderer } = await import('../worker/render/renderer.ts');
const { GpuFastRenderer } = await import('../worker/render/fast-renderer.ts');
const { headHalfMacs } = await import('../worker/model/fast-field.ts');
const { avatarSequence, psnr, resizeAvatar, talkingSequence } = await import('../tests/helpers/fast-sequence.ts');
const { loadBuiltinAvatar } = await import('../worker/avatar/builtin.node.ts');
const { loadBenchAvatar } = await import('../tests/helpers/bench-avatar.ts');
const { torsoPixelMacs } = await import('../worker/model/fast-renderer.ts');
const { torsoPixels } = await import('../worker/model/torso.ts');

const size = Number(process.env.R2T_FAST_GPU_SIZE ?? 64);
const n = Number(process.env.R2T_FAST_GPU_FRAMES ?? 25);
if (!(Number.isInteger(size) && size >= 16 && size <= 1024) || !(Number.isInteger(n) && n >= 2 && n <= 1500)) {
  console.error(`bench/fast-gpu.ts: R2T_FAST_GPU_SIZE must be an integer 16..1024 and R2T_FAST_GPU_FRAMES 2..1500, got ${size} and ${n}`);
  process.exit(2);
}
const which = process.env.R2T_FAST_GPU_AVATAR ?? 'demo';
if (which !== 'demo' && which !== 'builtin' && which !== 'bench') {
  console.error(`bench/fast-gpu.ts: R2T_FAST_GPU_AVATAR must be demo, builtin or bench, got ${JSON.stringify(which)}`);
  process.exit(2);
}
const seq = which === 'demo' ? talkingSequence(size, n) : avatarSequence(resizeAvatar(which === 'bench' ? await loadBenchAvatar() : await loadBuiltinAvatar(), size), n);
const tw = seq.weights.torso;
const torsoListed = tw ? torsoPixels(tw.densityGrid, seq.weights.config.torso!.densityResolution, size, size, tw.densityThreshold).length : 0;
const ctx = await acquireGpu({ gpu: await nodeGpu() });
const opts = { acquire: async () => ctx, compile: 'sync' as const };
const exact = await GpuRenderer.create(seq.avatar, opts);
const fast = await GpuFastRenderer.create(seq.avatar, opts);
const half = headHalfMacs(seq.avatar.config);
console.log(`\nfast mode vs exact on WebGPU (${ctx.caps.description}): ${which === 'demo' ? 'demo head' : which === 'bench' ? 'bench avatar official-t13.r2t (trained; official networks, 2^13 tables)' : 'builtin.r2t'} ${size}x${size}, ${n} frames with speech and head motion, ${exact.compositing} compositing for exact`);
// Frame 0 compiles nothing more but fast mode marches it in full: it is timed like every other.
let msE = 0;
let msF = 0;
let samplesE = 0;
let samplesF = 0;
let colouredF = 0;
let headF = 0;
let submits = 0;
let sumMse = 0;
let worst = Infinity;
let marched = 0;
let torsoF = 0;
for (let t = 0; t < n; t++) {
  const fr = seq.frames[t];
  const input = { film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye };
  let t0 = performance.now();
  const e = await exact.render(input, ['image', 'rgba', 'stats']);
  msE += performance.now() - t0;
  t0 = performance.now();
  const f = await fast.render(input, ['image', 'rgba']);
  msF += performance.now() - t0;
  samplesE += e.totalSamples!;
  samplesF += f.stats.evaluatedSamples;
  colouredF += f.stats.colouredSamples;
  headF += f.stats.macs - f.stats.torsoMacs;
  submits += f.stats.submits;
  torsoF += f.stats.torsoMacs;
  marched += f.stats.marchedRays;
  const p = psnr(f.image!, e.image!);
  sumMse += 10 ** (-p / 10);
  worst = Math.min(worst, p);
}
const per = half.sigma + half.colour;
console.log(`head-net multiply-adds per frame: exact ${((samplesE * per) / n / 1e6).toFixed(1)} M, fast ${(headF / n / 1e6).toFixed(1)} M -> ratio ${(headF / (samplesE * per)).toFixed(3)} (samples per frame: exact ${(samplesE / n).toFixed(0)}; fast density half ${(samplesF / n).toFixed(0)}, colour half ${(colouredF / n).toFixed(0)})`);
if (tw) {
  const tE = torsoListed * torsoPixelMacs(seq.weights);
  const hE = (samplesE * per) / n;
  const hF = headF / n;
  console.log(`torso-net multiply-adds per frame: exact ${(tE / 1e6).toFixed(1)} M, fast ${(torsoF / n / 1e6).toFixed(1)} M; head + torso nets: ratio fast/exact ${((hF + torsoF / n) / (hE + tE)).toFixed(3)}`);
}
console.log(`PSNR fast vs exact: sequence ${(-10 * Math.log10(sumMse / n)).toFixed(2)} dB, worst frame ${worst.toFixed(2)} dB; ${((100 * marched) / n / (size * size)).toFixed(1)}% of pixels marched`);
console.log(`wall time per frame: exact ${(msE / n).toFixed(1)} ms, fast ${(msF / n).toFixed(1)} ms -> ratio fast/exact ${(msF / msE).toFixed(3)} (${ctx.caps.description}); GPU round trips per frame: exact 1, fast ${(submits / n).toFixed(2)}`);
fast.destroy();
exact.destroy();
ctx.device.destroy();
process.exit(0);
