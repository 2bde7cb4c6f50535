import { beforeAll, describe, expect, it } from 'vitest';
import { compositeBackward, compositeForward, type CompositeResult } from '../../trainer/nerf/cpu/composite.ts';
import { GpuCompositor } from '../../trainer/nerf/gpu/composite.ts';
import { readBuffer, readF32 } from '../../trainer/nerf/gpu/readback.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { mulberry32 } from '../../worker/util/random.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

describe('GPU compositing of training rays vs the CPU reference', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('forward colour, weight sum and cut-off, and backward dSigma / dRgb, over 300 rays of 0..40 samples', async () => {
    const d = ctx.device;
    const rand = mulberry32(21);
    const numRays = 300;
    const tThreshold = 1e-4;
    const counts = Array.from({ length: numRays }, () => Math.floor(rand() * 41));
    const spans = new Uint32Array(2 * numRays);
    let total = 0;
    counts.forEach((c, r) => {
      spans[2 * r] = total;
      spans[2 * r + 1] = c;
      total += c;
    });
    const field = new Float32Array(4 * total);
    const dts = new Float32Array(total);
    for (let i = 0; i < total; i++) {
      field.set([rand(), rand(), rand()], 4 * i);
      // Mostly thin density, some opaque samples so that many rays hit the threshold.
      field[4 * i + 3] = rand() < 0.1 ? 200 * rand() : 5 * rand();
      dts[i] = 0.005 + 0.05 * rand();
    }
    const dRay = Float32Array.from({ length: 4 * numRays }, () => rand() * 2 - 1);
    const S = STORAGE();
    const bufs = {
      rays: makeBuffer(d, 'rays', spans.byteLength, S, spans),
      field: makeBuffer(d, 'field', field.byteLength, S, field),
      dts: makeBuffer(d, 'dts', dts.byteLength, S, dts),
      rayOut: makeBuffer(d, 'rayOut', 16 * numRays, S),
      used: makeBuffer(d, 'used', 4 * numRays, S),
      dRay: makeBuffer(d, 'dRay', dRay.byteLength, S, dRay),
      dField: makeBuffer(d, 'dField', 16 * total, S),
    };
    const comp = await GpuCompositor.create(d, { maxRays: numRays, maxSamples: total, tThreshold, compile: 'sync' }, bufs);
    try {
      comp.setRays(numRays);
      const enc = d.createCommandEncoder();
      comp.encodeForward(enc);
      comp.encodeBackward(enc);
      d.queue.submit([enc.finish()]);
      const rayOut = await readF32(d, bufs.rayOut, 4 * numRays);
      const used = new Uint32Array(await readBuffer(d, bufs.used, 4 * numRays));
      const dField = await readF32(d, bufs.dField, 4 * total);

      let cutOff = 0;
      let worstFwd = 0;
      let worstBwd = 0;
      let normBwd = 0;
      const res: CompositeResult = { used: 0, r: 0, g: 0, b: 0, weightSum: 0 };
      for (let r = 0; r < numRays; r++) {
        const [first, n] = [spans[2 * r], spans[2 * r + 1]];
        const sigma = Array.from({ length: n }, (_, i) => field[4 * (first + i) + 3]);
        const rgb = Array.from({ length: 3 * n }, (_, k) => field[4 * (first + Math.floor(k / 3)) + (k % 3)]);
        const dt = dts.subarray(first, first + n);
        compositeForward(sigma, rgb, dt, n, tThreshold, res);
        expect(used[r], `ray ${r} used`).toBe(res.used);
        if (res.used < n) cutOff++;
        [res.r, res.g, res.b, res.weightSum].forEach((v, c) => (worstFwd = Math.max(worstFwd, Math.abs(rayOut[4 * r + c] - v))));
        const dSigma = new Float64Array(n);
        const dRgb = new Float64Array(3 * n);
        compositeBackward(sigma, rgb, dt, res, dRay.subarray(4 * r, 4 * r + 3), dRay[4 * r + 3], dSigma, dRgb);
        for (let i = 0; i < n; i++) {
          const k = 4 * (first + i);
          const want = i < res.used ? [dRgb[3 * i], dRgb[3 * i + 1], dRgb[3 * i + 2], dSigma[i]] : [0, 0, 0, 0];
          want.forEach((v, c) => {
            worstBwd = Math.max(worstBwd, Math.abs(dField[k + c] - v));
            normBwd = Math.max(normBwd, Math.abs(v));
          });
        }
      }
      expect(cutOff).toBeGreaterThan(10);
      expect(worstFwd).toBeLessThan(2e-6);
      expect(normBwd).toBeGreaterThan(0.01);
      expect(worstBwd / normBwd).toBeLessThan(1e-5);
    } finally {
      comp.destroy();
      for (const b of Object.values(bufs)) b.destroy();
    }
  });

  it('validates its sizes and the ray count', async () => {
    const d = ctx.device;
    const b = makeBuffer(d, 'b', 1024, STORAGE());
    const io = { rays: b, field: b, dts: b, rayOut: b, used: b, dRay: b, dField: b };
    try {
      await expect(GpuCompositor.create(d, { maxRays: 100, maxSamples: 10, tThreshold: 1e-4, compile: 'sync' }, io)).rejects.toThrow(/composite\.rayOut: needs 1600 bytes/);
      await expect(GpuCompositor.create(d, { maxRays: 10, maxSamples: 10, tThreshold: 1, compile: 'sync' }, io)).rejects.toThrow(/tThreshold/);
      const c = await GpuCompositor.create(d, { maxRays: 10, maxSamples: 10, tThreshold: 1e-4, compile: 'sync' }, io);
      expect(() => c.setRays(11)).toThrow(/numRays: expected an integer in \[0, 10\]/);
      c.destroy();
    } finally {
      b.destroy();
    }
  });
});
