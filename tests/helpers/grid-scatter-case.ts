/**
 * A grid-backward case for the GPU scatter test and bench: random points (some outside [0,1])
 * and dOut spread over `decades` orders of magnitude (random signs), the float64 CPU reference, the float32
 * CPU sum, and one GPU run of GridScatter on the same data.
 */
import type { GridConfig } from '../../worker/avatar/config.ts';
import { gridOutputDim, prepareGrid } from '../../worker/model/grid.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { mulberry32 } from '../../worker/util/random.ts';
import { gridBackward } from '../../trainer/nerf/cpu/grid-backward.ts';
import { GridScatter, type ScatterAccumulate } from '../../trainer/nerf/gpu/grid-scatter.ts';
import { readF32 } from '../../trainer/nerf/gpu/readback.ts';

export interface ScatterCase {
  grid: GridConfig;
  /** vec4 per point, u in xyz. */
  points: Float32Array;
  dOut: Float32Array;
  stride: number;
  offset: number;
  n: number;
}

export function scatterCase(grid: GridConfig, n: number, opts: { seed?: number; decades?: number; outside?: number; stride?: number; offset?: number; dyadic?: boolean } = {}): ScatterCase {
  const rand = mulberry32(opts.seed ?? 1);
  const width = gridOutputDim(grid);
  const offset = opts.offset ?? 0;
  const stride = opts.stride ?? width;
  const points = new Float32Array(4 * n);
  for (let p = 0; p < n; p++) {
    const out = rand() < (opts.outside ?? 0);
    for (let d = 0; d < grid.inputDim; d++) {
      const v = out && d === 0 ? 1 + rand() : rand();
      // 16-bit dyadic coordinates make u * scale exact for small-integer scales, so the GPU's
      // corner weights equal the CPU's even where the driver does not fuse fma.
      points[4 * p + d] = opts.dyadic ? Math.round(v * 65536) / 65536 : v;
    }
  }
  const dOut = new Float32Array(n * stride);
  const decades = opts.decades ?? 4;
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < stride; j++) dOut[p * stride + j] = (rand() < 0.5 ? -1 : 1) * 10 ** (-decades * rand());
  }
  return { grid, points, dOut, stride, offset, n };
}

/** Reference sums: float64 (the truth) and float32 (what a sequential float32 CPU loop gives). */
export function cpuScatter(c: ScatterCase): { f64: Float64Array; f32: Float32Array } {
  const g = prepareGrid(c.grid, new Float32Array(c.grid.offsets[c.grid.levels] * c.grid.featuresPerLevel));
  const f64 = new Float64Array(g.table.length);
  const f32 = new Float32Array(g.table.length);
  const u = [0, 0, 0];
  for (let p = 0; p < c.n; p++) {
    for (let d = 0; d < 3; d++) u[d] = c.points[4 * p + d];
    gridBackward(g, u, c.dOut, p * c.stride + c.offset, f64);
    gridBackward(g, u, c.dOut, p * c.stride + c.offset, f32);
  }
  return { f64, f32 };
}

/** Runs GridScatter once on the case; returns the gradient and the scatter's stats. */
export async function gpuScatter(device: GPUDevice, c: ScatterCase, accumulate: ScatterAccumulate = 'fixed64'): Promise<{ dTable: Float32Array; maxAbs: number; shift: number }> {
  const entries = c.grid.offsets[c.grid.levels] * c.grid.featuresPerLevel;
  const points = makeBuffer(device, 'test.points', c.points.byteLength, STORAGE(), c.points);
  const dOut = makeBuffer(device, 'test.dOut', c.dOut.byteLength, STORAGE(), c.dOut);
  const dTable = makeBuffer(device, 'test.dTable', 4 * entries, STORAGE());
  let scatter: GridScatter | null = null;
  try {
    scatter = await GridScatter.create(device, { grid: c.grid, maxPoints: c.n, doutStride: c.stride, doutOffset: c.offset, compile: 'sync', accumulate }, { points, dOut, dTable });
    const enc = device.createCommandEncoder();
    scatter.encode(enc, c.n);
    device.queue.submit([enc.finish()]);
    const out = await readF32(device, dTable, entries);
    return { dTable: out, ...(await scatter.readStats()) };
  } finally {
    scatter?.destroy();
    for (const b of [points, dOut, dTable]) b.destroy();
  }
}

/** Largest |a - ref| over max |ref|, and the largest relative error over entries with |ref| >= floor * max|ref|. */
export function scatterError(a: ArrayLike<number>, ref: Float64Array, floor = 1e-3): { maxAbsOverNorm: number; maxRel: number } {
  let norm = 0;
  for (const v of ref) norm = Math.max(norm, Math.abs(v));
  let worst = 0;
  let rel = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(a[i] - ref[i]);
    worst = Math.max(worst, e);
    if (Math.abs(ref[i]) >= floor * norm) rel = Math.max(rel, e / Math.abs(ref[i]));
  }
  return { maxAbsOverNorm: norm > 0 ? worst / norm : worst, maxRel: rel };
}
