/**
 * npm run bench (built-in avatar part): how fast the CPU reference renders the shipped built-in
 * avatar (assets/avatars/builtin.r2t) at the extension's CPU render size (64x64, what a call
 * without WebGPU gets) and at its own camera size (what `r2talker demo` renders), exact and fast mode, over a
 * talking landmark track (the avatar's own statistics, mouth opening and closing at 4 Hz).
 * R2T_BUILTIN_FRAMES (default 12) frames per size and mode.
 */
import { loadBuiltinAvatar } from '../worker/avatar/builtin.node.ts';
import { CpuRenderer } from '../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../worker/model/fast-renderer.ts';
import { prepareFrames } from '../worker/model/track.ts';
import { loadModelWeights } from '../worker/model/weights.ts';
import { downscaleAvatar } from '../worker/engine/cpu-reference-renderer.ts';

const frames = Number(process.env.R2T_BUILTIN_FRAMES ?? 12);
if (!Number.isInteger(frames) || frames < 2 || frames > 1000) {
  console.error(`bench/builtin.ts: R2T_BUILTIN_FRAMES must be an integer in [2, 1000], got ${process.env.R2T_BUILTIN_FRAMES}`);
  process.exit(2);
}
const builtin = await loadBuiltinAvatar();
const stats = builtin.landmarkStats!;
const numbers = stats.mean.length;
// Lips apart and together in the avatar's own units (+-1.5 std of each lip point's height).
const track = new Float32Array(frames * numbers);
for (let t = 0; t < frames; t++) {
  const open = Math.sin((2 * Math.PI * 4 * t) / 25);
  for (let i = 0; i < numbers; i++) track[t * numbers + i] = stats.mean[i];
  for (const lm of [61, 62, 63, 50, 51, 52]) track[t * numbers + lm * 3 + 1] += 1.5 * open * stats.std[lm * 3 + 1];
  for (const lm of [65, 66, 67, 56, 57, 58, 8]) track[t * numbers + lm * 3 + 1] -= 1.5 * open * stats.std[lm * 3 + 1];
}

const side = builtin.camera.width;
console.log(`\nbuilt-in avatar on the CPU reference (one JS thread), ${frames} talking frames per row; camera ${side}x${builtin.camera.height}`);
for (const [label, avatar] of [
  ['extension CPU size 64x64', downscaleAvatar(builtin, side / 64)],
  [`demo size ${side}x${builtin.camera.height}`, builtin],
] as const) {
  const weights = loadModelWeights(avatar);
  const poses = avatar.tensors.get('poses')!.data as Float32Array;
  const inputs = [...prepareFrames(weights, poses, poses.length / 16, track, frames)];
  const exact = new CpuRenderer(weights, avatar.camera);
  const fast = new FastCpuRenderer(weights, avatar.camera);
  let t0 = performance.now();
  for (const f of inputs) exact.render(f);
  const exactMs = (performance.now() - t0) / frames;
  t0 = performance.now();
  for (const f of inputs) fast.render(f);
  const fastMs = (performance.now() - t0) / frames;
  console.log(
    `${label}: exact ${exactMs.toFixed(0)} ms/frame (${(1000 / exactMs).toFixed(2)} fps), fast ${fastMs.toFixed(0)} ms/frame (${(1000 / fastMs).toFixed(2)} fps), fast/exact ${(fastMs / exactMs).toFixed(2)}`,
  );
}
