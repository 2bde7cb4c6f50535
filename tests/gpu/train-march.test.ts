import { beforeAll, describe, expect, it } from 'vitest';
import { GpuTrainMarch } from '../../trainer/nerf/gpu/train-march.ts';
import { readBuffer, readF32 } from '../../trainer/nerf/gpu/readback.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { marchRay, stepBounds } from '../../worker/model/march.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { microConfig, microPose, microRays } from '../helpers/nerf-fixtures.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

describe('GPU training-ray march vs worker/model/march.ts marchRay', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('marks the same occupied samples (positions, dt, counts) for 400 jittered rays through a half-empty grid', async () => {
    const d = ctx.device;
    const config = { ...microConfig({ torso: false }), march: { ...microConfig().march, gridResolution: 16, maxSteps: 24 } };
    const camera = { fx: 40, fy: 40, cx: 16, cy: 16, width: 32, height: 32 };
    const rng = new Rng(8);
    const R = config.march.gridResolution;
    const S = config.march.maxSteps;
    const bits = Uint8Array.from({ length: (R * R * R) / 8 }, () => Math.floor(rng.next() * 256) & Math.floor(rng.next() * 256));
    const N = 400;
    const rays = microRays(config, camera, microPose(0.3), N, rng);
    const capacity = N * S;
    const io = { samples: makeBuffer(d, 'samples', 32 * capacity, STORAGE()), dts: makeBuffer(d, 'dts', 4 * capacity, STORAGE()), spans: makeBuffer(d, 'spans', 8 * N, STORAGE()) };
    const march = await GpuTrainMarch.create(d, config, N, capacity, io, 'sync');
    try {
      march.setBitfield(bits);
      march.setRays(rays);
      const enc = d.createCommandEncoder();
      march.encode(enc);
      d.queue.submit([enc.finish()]);
      const samples = await readF32(d, io.samples, 8 * capacity);
      const dts = await readF32(d, io.dts, capacity);
      const spans = new Uint32Array(await readBuffer(d, io.spans, 8 * N));

      const { dtMin, dtMax } = stepBounds(config.march);
      const xyz = new Float32Array(3 * S);
      const ts = new Float32Array(S);
      const dt = new Float32Array(S);
      let same = 0;
      let marched = 0;
      let worst = 0;
      for (let r = 0; r < N; r++) {
        const near = rays.nears[r];
        let n = 0;
        if (Number.isFinite(near)) {
          const dt0 = Math.min(dtMax, Math.max(dtMin, Math.fround(near * config.march.dtGamma)));
          n = marchRay(rays.origins.subarray(3 * r, 3 * r + 3), rays.directions.subarray(3 * r, 3 * r + 3), Math.fround(near + rays.jitter[r] * dt0), rays.fars[r], S, bits, config.march, xyz, ts, dt);
        }
        expect(spans[2 * r]).toBe(r * S);
        if (spans[2 * r + 1] !== n) continue;
        same++;
        marched += n;
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(samples[4 * (r * S + i) + k] - xyz[3 * i + k]));
          worst = Math.max(worst, Math.abs(dts[r * S + i] - dt[i]));
          expect(samples[4 * (capacity + r * S + i) + 2]).toBe(rays.directions[3 * r + 2]);
        }
        // Unused slots sit outside the unit cube with dt 0, so they add nothing downstream.
        for (let i = n; i < S; i++) {
          expect(samples[4 * (r * S + i)]).toBe(2);
          expect(dts[r * S + i]).toBe(0);
        }
      }
      // float32 rounding may move a sample across a cell wall on a rare ray; never more.
      expect(same).toBeGreaterThanOrEqual(N - 2);
      expect(marched).toBeGreaterThan(N);
      expect(worst).toBeLessThan(1e-5);
    } finally {
      march.destroy();
      for (const b of Object.values(io)) b.destroy();
    }
  });
});
