/**
 * npm run bench (built-in avatar part): how fast the CPU reference renders the shipped built-in
 * avatar (assets/avatars/builtin.r2t) at the extension's CPU render size (64x64, what a call
 * without WebGPU gets) and at its own camera size (what `r2talker demo` renders), exact and fast mode, over a
 * talking landmark track (the avatar's own statistics, mouth opening and closing at 4 Hz).
 * Each row with the layers in TS and in WebAssembly SIMD (what the extension's CPU path runs).
 * R2T_BUILTIN_FRAMES (default 12) frames per size and mode.
 */
import { loadBuiltinAvatar } from '../worker/avatar/builtin.node.ts';
import { CpuRenderer } from '../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../worker/model/fast-renderer.ts';
import { prepareFrames } from '../worker/model/track.ts';
import { loadModelWeights } from '../worker/model/weights.ts';
import { downscaleAvatar } from '../worker/engine/cpu-reference-renderer.ts';
import { enableSimd } from '../worker/model/simd-mlp.ts';

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
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(`\nbuilt-in avatar on the CPU reference (one JS thread), ${frames} talking frames per row; camera ${side}x${builtin.camera.height}`);
console.log('  TS: the head field in JavaScript; SIMD: its layers in WebAssembly SIMD and its grid encoding in WebAssembly (simd-mlp.ts, wasm-grid.ts; same pixels), as the extension runs them;');
console.log('  wall ms/frame (CPU ms/frame of this process, robust to other load), best of 2 interleaved passes');
for (const [label, avatar] of [
  ['extension CPU size 64x64', downscaleAvatar(builtin, side / 64)],
  [`demo size ${side}x${builtin.camera.height}`, builtin],
] as const) {
  const rows = (['ts', 'simd'] as const).map((kernel) => {
    const weights = loadModelWeights(avatar);
    if (kernel === 'simd' && !enableSimd(weights)) throw new Error('WebAssembly SIMD is not available in this runtime');
    const poses = avatar.tensors.get('poses')!.data as Float32Array;
    const inputs = [...prepareFrames(weights, poses, poses.length / 16, track, frames)];
    return { kernel, inputs, exact: new CpuRenderer(weights, avatar.camera), fast: new FastCpuRenderer(weights, avatar.camera), best: { exact: [Infinity, Infinity], fast: [Infinity, Infinity] } };
  });
  for (let pass = 0; pass < 2; pass++) {
    for (const r of rows) {
      for (const mode of ['exact', 'fast'] as const) {
        if (mode === 'fast') r.fast.reset();
        const t0 = performance.now();
        const c0 = cpuMs();
        for (const f of r.inputs) r[mode].render(f);
        const b = r.best[mode];
        b[0] = Math.min(b[0], (performance.now() - t0) / frames);
        b[1] = Math.min(b[1], (cpuMs() - c0) / frames);
      }
    }
  }
  const fmt = (b: number[]): string => `${b[0].toFixed(0)} ms (${b[1].toFixed(0)} CPU ms, ${(1000 / b[0]).toFixed(2)} fps)`;
  for (const r of rows) console.log(`${label}, ${r.kernel === 'ts' ? 'TS  ' : 'SIMD'}: exact ${fmt(r.best.exact)}, fast ${fmt(r.best.fast)}, fast/exact ${(r.best.fast[0] / r.best.exact[0]).toFixed(2)}`);
  const [ts, simd] = rows;
  console.log(`${label}: SIMD/TS CPU time exact ${(simd.best.exact[1] / ts.best.exact[1]).toFixed(3)}, fast ${(simd.best.fast[1] / ts.best.fast[1]).toFixed(3)}; a worker pool per core is not built (one thread)`);
}
