/**
 * Head steps split into ray sub-batches (trainer/nerf/gpu/batch-split.ts), on SwiftShader at
 * reduced rays: a backend limited to 16 rays per sub-batch (40 rays: 16 + 16 + 8, forward
 * recomputed in the backward, gradients summed on the GPU) gives the colours, gradients and
 * parameters of one that runs the step in a single batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParamSet } from '../../trainer/nerf/backend.ts';
import { WebGpuTrainerBackend } from '../../trainer/nerf/gpu/backend.ts';
import { paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { microCamera, microCondition, microConfig, microParams, microPose, microRays } from '../helpers/nerf-fixtures.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';
import { relErr } from '../helpers/rel-err.ts';

describe('WebGPU trainer: ray sub-batches', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('a step split 16 + 16 + 8 matches the unsplit step: colours, every gradient group, parameters after Adam', async () => {
    const config = microConfig({ torso: false });
    const camera = microCamera();
    const params = microParams(config, 7);
    const groups = paramGroups(config);
    const whole = new WebGpuTrainerBackend(ctx);
    const split = new WebGpuTrainerBackend(ctx, false, { maxRaysPerBatch: 16 });
    const both = [whole, split];
    for (const b of both) await b.init({ config, camera, groups, params });
    expect(whole.raysPerBatch).toBeGreaterThan(40);
    expect(split.raysPerBatch).toBe(16);
    const lr = new Map(groups.map((g) => [g.name, g.kind === 'grid' ? 1e-2 : 1e-3]));
    const active = { head: 2, condition: 2, torso: 2 };
    try {
      for (let step = 0; step < 2; step++) {
        const rng = new Rng(300 + step);
        const rays = microRays(config, camera, microPose(0.05 + 0.1 * step), 40, rng);
        const condition = microCondition(config, rng);
        const target = Float32Array.from({ length: 3 * rays.count }, () => rng.next());
        const [w, s] = [await whole.headForward({ rays, condition, activeLevels: active }, true), await split.headForward({ rays, condition, activeLevels: active }, true)];
        expect(s.samples).toBe(w.samples);
        expect(w.samples).toBeGreaterThan(rays.count);
        expect(relErr(s.rgb, w.rgb)).toBeLessThan(1e-6);
        expect(relErr(s.weightSum, w.weightSum)).toBeLessThan(1e-6);
        const dRgb = Float32Array.from(w.rgb, (v, i) => (2 * (v - target[i])) / w.rgb.length);
        const dWs = Float32Array.from(w.weightSum, (v) => 0.02 * (v - 0.5));
        for (const b of both) await b.headBackward(dRgb, dWs);
        const [gw, gs] = [await whole.readGrads(), await split.readGrads()];
        let compared = 0;
        for (const grp of groups) {
          const want = gw.get(grp.name)!;
          if (want.every((v) => v === 0)) continue;
          compared++;
          // The sub-batches' sums are added in float32 (the grid scatter's fixed point is per sub-batch).
          expect(relErr(gs.get(grp.name)!, want), `step ${step} grad ${grp.name}`).toBeLessThan(1e-5);
        }
        expect(compared).toBeGreaterThan(5);
        for (const b of both) await b.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr });
      }
      const [pw, ps] = (await Promise.all(both.map((b) => b.readParams()))) as [ParamSet, ParamSet];
      for (const grp of groups) {
        const moved = relErr(pw.get(grp.name)!, params.get(grp.name)!);
        expect(relErr(ps.get(grp.name)!, pw.get(grp.name)!), `param ${grp.name}`).toBeLessThan(Math.max(1e-5, 0.01 * moved));
      }
    } finally {
      for (const b of both) b.dispose();
    }
  });

  it('refuses a bad sub-batch size', () => {
    expect(() => new WebGpuTrainerBackend(ctx, false, { maxRaysPerBatch: 0 })).toThrow(/maxRaysPerBatch: expected a positive integer/);
  });
});
