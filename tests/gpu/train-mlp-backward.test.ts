import { beforeAll, describe, expect, it } from 'vitest';
import { filmBackward, linearBackward, reluBackward } from '../../trainer/nerf/cpu/mlp-backward.ts';
import { FilmBackward, LinearBackward } from '../../trainer/nerf/gpu/mlp-backward.ts';
import { readF32 } from '../../trainer/nerf/gpu/readback.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { mulberry32 } from '../../worker/util/random.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

function randomArray(n: number, rand: () => number, relu = false): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const v = rand() * 2 - 1;
    return relu ? Math.max(0, v) : v;
  });
}

/** Largest |a - b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  expect(norm).toBeGreaterThan(0);
  return worst / norm;
}

describe('GPU MLP backward vs the CPU reference', () => {
  let ctx: GpuContext;
  const owned: GPUBuffer[] = [];
  const buf = (data: Float32Array | number) => {
    const b = typeof data === 'number' ? makeBuffer(ctx.device, 'test', 4 * data, STORAGE()) : makeBuffer(ctx.device, 'test', data.byteLength, STORAGE(), data);
    owned.push(b);
    return b;
  };
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
    return () => owned.forEach((b) => b.destroy());
  });

  for (const reluMask of [true, false]) {
    it(`linear layer 37 -> 21 over 1000 samples (4 chunks, the last partial), reluMask ${reluMask}`, async () => {
      const d = ctx.device;
      const [n, inDim, outDim] = [1000, 37, 21];
      const rand = mulberry32(reluMask ? 3 : 4);
      const w = randomArray(outDim * inDim, rand);
      const x = randomArray(n * inDim, rand, reluMask);
      const dy = randomArray(n * outDim, rand);
      const dwRef = new Float64Array(outDim * inDim);
      const dxRef = new Float64Array(n * inDim);
      for (let s = 0; s < n; s++) {
        linearBackward(w, outDim, inDim, x, s * inDim, dy, s * outDim, dwRef, dxRef, s * inDim);
        if (reluMask) reluBackward(x, s * inDim, dxRef, s * inDim, inDim);
      }
      const io = { w: buf(w), x: buf(x), dy: buf(dy), dx: buf(n * inDim), dw: buf(outDim * inDim) };
      const lb = await LinearBackward.create(d, { inDim, outDim, maxSamples: n, reluMask, compile: 'sync' }, io);
      const enc = d.createCommandEncoder();
      lb.encode(enc, n);
      d.queue.submit([enc.finish()]);
      const dx = await readF32(d, io.dx, n * inDim);
      const dw = await readF32(d, io.dw, outDim * inDim);
      expect(relErr(dx, dxRef)).toBeLessThan(1e-6);
      expect(relErr(dw, dwRef)).toBeLessThan(1e-5);
      if (reluMask) for (let i = 0; i < x.length; i++) if (x[i] === 0) expect(dx[i]).toBe(0);
      lb.destroy();
    });
  }

  it('binds weights inside a flat parameter buffer at a 256-byte offset; dx may be skipped; n = 0 gives a zero gradient', async () => {
    const d = ctx.device;
    const [n, inDim, outDim] = [300, 8, 5];
    const rand = mulberry32(7);
    const w = randomArray(outDim * inDim, rand);
    const flat = new Float32Array(64 + outDim * inDim);
    flat.set(w, 64);
    const x = randomArray(n * inDim, rand);
    const dy = randomArray(n * outDim, rand);
    const dwRef = new Float64Array(outDim * inDim);
    for (let s = 0; s < n; s++) linearBackward(w, outDim, inDim, x, s * inDim, dy, s * outDim, dwRef, null, 0);
    const grads = buf(64 + outDim * inDim);
    const lb = await LinearBackward.create(d, { inDim, outDim, maxSamples: n, reluMask: false, compile: 'sync' }, { w: { buffer: buf(flat), offset: 256 }, x: buf(x), dy: buf(dy), dx: null, dw: { buffer: grads, offset: 256 } });
    let enc = d.createCommandEncoder();
    lb.encode(enc, n);
    d.queue.submit([enc.finish()]);
    const all = await readF32(d, grads, 64 + outDim * inDim);
    expect(relErr(all.subarray(64), dwRef)).toBeLessThan(1e-5);
    expect(all.subarray(0, 64).every((v) => v === 0)).toBe(true);
    enc = d.createCommandEncoder();
    lb.encode(enc, 0);
    d.queue.submit([enc.finish()]);
    expect((await readF32(d, grads, 64 + outDim * inDim)).every((v) => v === 0)).toBe(true);
    expect(() => lb.encode(d.createCommandEncoder(), n + 1)).toThrow(/\.n: expected an integer in \[0, 300\]/);
    lb.destroy();
  });

  it('rejects an unaligned slice and an undersized buffer, naming the binding', async () => {
    const d = ctx.device;
    const big = buf(4096);
    const opts = { inDim: 8, outDim: 5, maxSamples: 100, reluMask: false, compile: 'sync' as const };
    await expect(LinearBackward.create(d, opts, { w: { buffer: big, offset: 4 }, x: big, dy: big, dx: big, dw: big })).rejects.toThrow(/linearBackward\.w: offset 4/);
    await expect(LinearBackward.create(d, opts, { w: big, x: buf(10), dy: big, dx: big, dw: big })).rejects.toThrow(/linearBackward\.x: needs 3200 bytes/);
  });

  it('FiLM over 700 samples of width 19: dg summed over the batch, dh scaled by 1 + b', async () => {
    const d = ctx.device;
    const [n, H] = [700, 19];
    const rand = mulberry32(12);
    const h = randomArray(n * H, rand);
    const g = randomArray(2 * H, rand);
    const dhIn = randomArray(n * H, rand);
    const dhRef = Float64Array.from(dhIn);
    const dgRef = new Float64Array(2 * H);
    for (let s = 0; s < n; s++) filmBackward(h, s * H, H, g, dhRef, s * H, dgRef);
    const io = { h: buf(h), g: buf(g), dh: buf(dhIn), dg: buf(2 * H) };
    const fb = await FilmBackward.create(d, { dim: H, maxSamples: n, compile: 'sync' }, io);
    const enc = d.createCommandEncoder();
    fb.encode(enc, n);
    d.queue.submit([enc.finish()]);
    expect(relErr(await readF32(d, io.dg, 2 * H), dgRef)).toBeLessThan(1e-5);
    expect(relErr(await readF32(d, io.dh, n * H), dhRef)).toBeLessThan(1e-6);
    fb.destroy();
  });
});
