/**
 * Bench of the grid-encoding backward (trainer/nerf/gpu/grid-scatter.ts) on the official head
 * grid: cost of the deterministic 64-bit fixed-point scatter vs a float32 compare-and-swap
 * scatter and vs the CPU reference, its precision vs a float64 sum (and the float32 CPU sum's),
 * and the GPU memory it holds. Points: R2T_BENCH_TRAIN_POINTS, else 65536 on a fallback adapter
 * (SwiftShader), 1048576 on a real GPU. Run through bench/train.ts.
 */
import { defaultOffsets, officialConfig } from '../worker/avatar/config.ts';
import type { GpuContext } from '../worker/gpu/device.ts';
import { makeBuffer, STORAGE } from '../worker/render/gpu-util.ts';
import { GridScatter } from '../trainer/nerf/gpu/grid-scatter.ts';
import { readF32 } from '../trainer/nerf/gpu/readback.ts';
import { cpuScatter, gpuScatter, scatterCase, scatterError } from '../tests/helpers/grid-scatter-case.ts';

export async function benchScatter(ctx: GpuContext): Promise<void> {
  const device = ctx.device;
  const grid = officialConfig().head.grid;
  const n = Number(process.env.R2T_BENCH_TRAIN_POINTS ?? (ctx.caps.fallback ? 65536 : 1 << 20));
  if (!Number.isInteger(n) || n < 1 || n > 1 << 24) throw new Error(`R2T_BENCH_TRAIN_POINTS: expected an integer in [1, 2^24], got ${process.env.R2T_BENCH_TRAIN_POINTS}`);
  const entries = grid.offsets[grid.levels] * grid.featuresPerLevel;
  const contributions = n * grid.levels * 2 ** grid.inputDim * grid.featuresPerLevel;
  console.log(`\n== training kernels: grid-encoding backward ==`);
  console.log(`device: ${ctx.caps.description} (fallback=${ctx.caps.fallback}); official head grid ${grid.levels} levels x ${grid.featuresPerLevel} features, ${grid.offsets[grid.levels]} rows; ${n} points, ${(contributions / 1e6).toFixed(1)} M contributions`);

  // Samples of a training step cluster near the face: squeeze the points into the middle of the
  // box so the fine levels collide as they do in training, not just through the hash.
  const c = scatterCase(grid, n, { seed: 11, decades: 6 });
  for (let i = 0; i < 4 * n; i++) if (i % 4 < 3) c.points[i] = 0.35 + 0.3 * c.points[i];

  /** This process's CPU time in ms: what a software adapter (SwiftShader) burns, robust to other load. */
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = performance.now();
  const ref = cpuScatter(c);
  const cpuMs = (performance.now() - t0) / 2; // cpuScatter sums twice (float64 and float32)

  const points = makeBuffer(device, 'bench.points', c.points.byteLength, STORAGE(), c.points);
  const dOut = makeBuffer(device, 'bench.dOut', c.dOut.byteLength, STORAGE(), c.dOut);
  const dTable = makeBuffer(device, 'bench.dTable', 4 * entries, STORAGE());

  async function measure(accumulate: 'fixed64' | 'cas-f32') {
    const s = await GridScatter.create(device, { grid, maxPoints: n, accumulate, compile: 'sync' }, { points, dOut, dTable });
    try {
      const run = async () => {
        const enc = device.createCommandEncoder();
        s.encode(enc, n);
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
      await run();
      const first = await readF32(device, dTable, entries);
      let best = Infinity;
      let bestCpu = Infinity;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        const c0 = cpuNow();
        await run();
        best = Math.min(best, performance.now() - t);
        bestCpu = Math.min(bestCpu, cpuNow() - c0);
      }
      const again = await readF32(device, dTable, entries);
      let differing = 0;
      for (let i = 0; i < entries; i++) if (Object.is(first[i], again[i]) === false) differing++;
      return { ms: best, cpuMs: bestCpu, err: scatterError(first, ref.f64), differing, bytes: s.bytesHeld, stats: await s.readStats() };
    } finally {
      s.destroy();
    }
  }

  const fixed = await measure('fixed64');
  const cas = await measure('cas-f32');
  const e32 = scatterError(ref.f32, ref.f64);
  const fmt = (e: { maxAbsOverNorm: number; maxRel: number }) => `max error ${e.maxAbsOverNorm.toExponential(2)} of the largest entry, ${e.maxRel.toExponential(2)} relative on entries >= 1e-3 of it`;
  console.log(`scatter cost (best of 3, wall): fixed64 ${fixed.ms.toFixed(1)} ms (${(contributions / fixed.ms / 1e3).toFixed(1)} M contributions/s), cas-f32 ${cas.ms.toFixed(1)} ms, CPU reference ${cpuMs.toFixed(0)} ms (one JS thread)`);
  if (ctx.caps.fallback) console.log(`  process CPU time (the software adapter's work): fixed64 ${fixed.cpuMs.toFixed(0)} ms, cas-f32 ${cas.cpuMs.toFixed(0)} ms`);
  console.log(`ratio fixed64 vs cas-f32: ${(cas.ms / fixed.ms).toFixed(2)}x; fixed64 vs CPU reference: ${(cpuMs / fixed.ms).toFixed(2)}x (above 1 = GPU faster)`);
  console.log(`precision vs float64 sum, official grid: fixed64 ${fmt(fixed.err)} (S = ${fixed.stats.shift}, max|dOut| ${fixed.stats.maxAbs.toExponential(2)})`);
  console.log(`  cas-f32 ${fmt(cas.err)}; float32 CPU sum ${fmt(e32)}`);
  console.log(`  (on an adapter that splits fma, both GPU figures include corner weights off by an ulp of the position)`);
  console.log(`determinism (same inputs, two runs): fixed64 ${fixed.differing} entries differ, cas-f32 ${cas.differing} differ`);
  console.log(`GPU memory held by the scatter: ${(fixed.bytes / 2 ** 20).toFixed(1)} MiB (8 bytes per table entry) + gradient ${((4 * entries) / 2 ** 20).toFixed(1)} MiB`);
  for (const b of [points, dOut, dTable]) b.destroy();

  // The scatter's own precision: integer level scales (3, 7, ..., 511) and 16-bit dyadic points
  // make every corner weight exact on any adapter, so only the summation differs.
  const exactGrid = { inputDim: 3 as const, levels: 8, featuresPerLevel: 2, baseResolution: 4, finestResolution: 512, gridType: 'hash' as const, offsets: defaultOffsets(3, 8, 4, 512, 12) };
  const nx = Math.min(n, 65536);
  const cx = scatterCase(exactGrid, nx, { seed: 12, decades: 6, dyadic: true });
  const refx = cpuScatter(cx);
  const fx = scatterError((await gpuScatter(device, cx, 'fixed64')).dTable, refx.f64);
  const cx32 = scatterError((await gpuScatter(device, cx, 'cas-f32')).dTable, refx.f64);
  console.log(`precision vs float64 sum, exact corner weights (${nx} points, 8 levels x 4096 hashed rows): fixed64 ${fmt(fx)}`);
  console.log(`  cas-f32 ${fmt(cx32)}; float32 CPU sum ${fmt(scatterError(refx.f32, refx.f64))}`);
  for (const b of [points, dOut, dTable]) b.destroy();
}
