import { beforeAll, describe, expect, it } from 'vitest';
import { defaultOffsets, type GridConfig } from '../../worker/avatar/config.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { ConfigError } from '../../worker/errors.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { GridScatter } from '../../trainer/nerf/gpu/grid-scatter.ts';
import { cpuScatter, gpuScatter, scatterCase, scatterError } from '../helpers/grid-scatter-case.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

/** 3 levels of a 64-row hash table: thousands of points pile hundreds of contributions on each row. */
const hash3: GridConfig = { inputDim: 3, levels: 3, featuresPerLevel: 2, baseResolution: 4, finestResolution: 16, gridType: 'hash', offsets: defaultOffsets(3, 3, 4, 16, 6) };
const tiled2: GridConfig = { inputDim: 2, levels: 2, featuresPerLevel: 2, baseResolution: 4, finestResolution: 8, gridType: 'tiled', offsets: defaultOffsets(2, 2, 4, 8, 12) };

describe('GPU grid-encoding backward (fixed-point scatter)', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('matches the float64 CPU reference to float32 precision on a heavily colliding hash grid, better than a float32 CPU sum', async () => {
    // Dyadic points: identical corner weights on CPU and GPU, so this measures the scatter alone.
    const c = scatterCase(hash3, 4000, { seed: 3, decades: 4, outside: 0.05, dyadic: true });
    const ref = cpuScatter(c);
    const gpu = await gpuScatter(ctx.device, c);
    const e = scatterError(gpu.dTable, ref.f64);
    const e32 = scatterError(ref.f32, ref.f64);
    // 4000 points x 3 levels x 8 corners onto 192 rows: ~500 contributions a row.
    expect(e.maxAbsOverNorm).toBeLessThan(2 ** -23);
    expect(e.maxAbsOverNorm * 4).toBeLessThan(e32.maxAbsOverNorm);
    // Rows whose sum cancels down to 1e-3 of the largest keep 4+ digits (float32 products).
    expect(e.maxRel).toBeLessThan(5e-5);
    expect(e.maxRel).toBeLessThan(e32.maxRel);
    // S = 62 - ceil(log2 4000) - exponent of max|dOut| (< 1, so 0 or 1).
    expect(gpu.maxAbs).toBeGreaterThan(0.5);
    expect(gpu.maxAbs).toBeLessThanOrEqual(1);
    expect(gpu.shift).toBe(62 - 12 - (gpu.maxAbs === 1 ? 1 : 0));
  });

  it('stays within float32 rounding of the corner positions for arbitrary points', async () => {
    // Where the driver splits fma (SwiftShader), u * scale + 0.5 rounds twice and a corner
    // weight moves by up to an ulp of the position (2^-20 at position 15).
    const c = scatterCase(hash3, 4000, { seed: 3, decades: 4, outside: 0.05 });
    const e = scatterError((await gpuScatter(ctx.device, c)).dTable, cpuScatter(c).f64);
    expect(e.maxAbsOverNorm).toBeLessThan(1e-6);
  });

  it("accumulate: 'cas-f32' (compare-and-swap float adds) lands within float32 summation error", async () => {
    const c = scatterCase(hash3, 4000, { seed: 3, decades: 4, outside: 0.05, dyadic: true });
    const ref = cpuScatter(c);
    const e = scatterError((await gpuScatter(ctx.device, c, 'cas-f32')).dTable, ref.f64);
    // Same order of error as the sequential float32 CPU sum (~1e-6 of the largest entry).
    expect(e.maxAbsOverNorm).toBeLessThan(1e-5);
    expect(e.maxAbsOverNorm).toBeGreaterThan(0);
  });

  it('is bit-identical whatever the order of the points', async () => {
    const c = scatterCase(hash3, 1500, { seed: 8 });
    const a = await gpuScatter(ctx.device, c);
    // Reverse the points (and their dOut rows): integer sums do not depend on order.
    const rev = { ...c, points: new Float32Array(c.points.length), dOut: new Float32Array(c.dOut.length) };
    for (let p = 0; p < c.n; p++) {
      rev.points.set(c.points.subarray(4 * p, 4 * p + 4), 4 * (c.n - 1 - p));
      rev.dOut.set(c.dOut.subarray(p * c.stride, (p + 1) * c.stride), (c.n - 1 - p) * c.stride);
    }
    const b = await gpuScatter(ctx.device, rev);
    expect(Buffer.from(b.dTable.buffer).equals(Buffer.from(a.dTable.buffer))).toBe(true);
    expect(a.dTable.some((v) => v !== 0)).toBe(true);
  });

  it('reads the grid gradients at an offset within wider dOut rows (2-D tiled grid, tiny and huge magnitudes)', async () => {
    const c = scatterCase(tiled2, 700, { seed: 5, decades: 12, stride: 7, offset: 2, dyadic: true });
    // Scale everything by 2^-40: the fixed-point exponent follows the range, not a constant.
    for (let i = 0; i < c.dOut.length; i++) c.dOut[i] *= 2 ** -40;
    const ref = cpuScatter(c);
    const gpu = await gpuScatter(ctx.device, c);
    const e = scatterError(gpu.dTable, ref.f64);
    expect(e.maxAbsOverNorm).toBeLessThan(2 ** -23);
    expect(e.maxRel).toBeLessThan(5e-6);
    expect(gpu.shift).toBeGreaterThan(62 - 10 + 39);
  });

  it('writes NaN over the whole gradient when a dOut is NaN, and zeros when there are no points', async () => {
    const c = scatterCase(hash3, 50, { seed: 2 });
    c.dOut[17] = Number.NaN;
    const nan = await gpuScatter(ctx.device, c);
    expect(nan.dTable.every((v) => Number.isNaN(v))).toBe(true);
    const empty = await gpuScatter(ctx.device, { ...scatterCase(hash3, 1, { seed: 2 }), n: 1, points: Float32Array.from([2, 2, 2, 0]) });
    expect(empty.dTable.every((v) => v === 0)).toBe(true);
  });

  it('rejects undersized buffers and a point count past maxPoints, naming them', async () => {
    const d = ctx.device;
    const entries = hash3.offsets[3] * 2;
    const small = makeBuffer(d, 'small', 64, STORAGE());
    const points = makeBuffer(d, 'points', 16 * 10, STORAGE());
    const dOut = makeBuffer(d, 'dOut', 4 * 60, STORAGE());
    const dTable = makeBuffer(d, 'dTable', 4 * entries, STORAGE());
    try {
      await expect(GridScatter.create(d, { grid: hash3, maxPoints: 10, compile: 'sync' }, { points: small, dOut, dTable })).rejects.toThrow(/gridScatter\.points: needs 160 bytes/);
      await expect(GridScatter.create(d, { grid: hash3, maxPoints: 10, compile: 'sync' }, { points, dOut: small, dTable })).rejects.toThrow(/dOut/);
      await expect(GridScatter.create(d, { grid: hash3, maxPoints: 10, compile: 'sync' }, { points, dOut, dTable: small })).rejects.toThrow(/dTable/);
      await expect(GridScatter.create(d, { grid: hash3, maxPoints: 10, doutStride: 4, compile: 'sync' }, { points, dOut, dTable })).rejects.toThrow(ConfigError);
      const s = await GridScatter.create(d, { grid: hash3, maxPoints: 10, compile: 'sync' }, { points, dOut, dTable });
      expect(() => s.encode(d.createCommandEncoder(), 11)).toThrow(/numPoints: expected an integer in \[0, 10\]/);
      expect(() => s.encode(d.createCommandEncoder(), 5, 4)).toThrow(/activeLevels: expected an integer in \[1, 3\]/);
      expect(s.bytesHeld).toBeGreaterThanOrEqual(8 * entries);
      s.destroy();
      expect(() => s.encode(d.createCommandEncoder(), 1)).toThrow(/after destroy/);
    } finally {
      for (const b of [small, points, dOut, dTable]) b.destroy();
    }
  });
});
