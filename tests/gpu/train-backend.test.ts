import { beforeAll, describe, expect, it } from 'vitest';
import type { ParamSet, TrainerBackend } from '../../trainer/nerf/backend.ts';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { WebGpuTrainerBackend } from '../../trainer/nerf/gpu/backend.ts';
import { paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { microCamera, microCondition, microConfig, microParams, microPose, microRays } from '../helpers/nerf-fixtures.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';
import { relErr } from '../helpers/rel-err.ts';

describe('WebGPU trainer backend vs the CPU backend', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('three head steps (forward, MSE backward, Adam) and an occupancy refresh give the same colours, gradients and parameters', async () => {
    const config = microConfig({ torso: false });
    const camera = microCamera();
    const params = microParams(config, 5);
    const groups = paramGroups(config);
    const cpu = new CpuTrainerBackend();
    const gpu = new WebGpuTrainerBackend(ctx);
    const both: TrainerBackend[] = [cpu, gpu];
    for (const b of both) await b.init({ config, camera, groups, params });
    const lr = new Map(groups.map((g) => [g.name, g.kind === 'grid' ? 1e-2 : 1e-3]));
    const active = { head: 2, condition: 2, torso: 2 };
    try {
      for (let step = 0; step < 3; step++) {
        const rng = new Rng(100 + step);
        // The last step brings more rays than the first two: the GPU batch buffers grow.
        const rays = microRays(config, camera, microPose(0.1 * step), step < 2 ? 24 : 40, rng);
        const condition = microCondition(config, rng);
        const target = Float32Array.from({ length: 3 * rays.count }, () => rng.next());
        const [c, g] = await Promise.all(both.map((b) => b.headForward({ rays, condition, activeLevels: active }, true)));
        expect(g.samples).toBe(c.samples);
        expect(c.samples).toBeGreaterThan(rays.count);
        expect(relErr(g.rgb, c.rgb)).toBeLessThan(1e-4);
        expect(relErr(g.weightSum, c.weightSum)).toBeLessThan(1e-4);
        // Loss = mean squared error of the premultiplied colour; the same dL/d(outputs) for both.
        const dRgb = Float32Array.from(c.rgb, (v, i) => (2 * (v - target[i])) / c.rgb.length);
        const dWs = new Float32Array(rays.count).fill(0.01);
        for (const b of both) await b.headBackward(dRgb, dWs);
        const [gc, gg] = await Promise.all(both.map((b) => b.readGrads()));
        for (const grp of groups) {
          const want = gc.get(grp.name)!;
          if (want.every((v) => v === 0)) continue;
          // Measured ~1e-6 (float32 GPU sums vs float64 CPU sums).
          expect(relErr(gg.get(grp.name)!, want), `step ${step} grad ${grp.name}`).toBeLessThan(2e-5);
        }
        for (const b of both) await b.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr });
      }
      const [pc, pg] = (await Promise.all(both.map((b) => b.readParams()))) as [ParamSet, ParamSet];
      for (const grp of groups) {
        const moved = relErr(pc.get(grp.name)!, params.get(grp.name)!);
        expect(relErr(pg.get(grp.name)!, pc.get(grp.name)!), `param ${grp.name}`).toBeLessThan(Math.max(1e-4, 0.05 * moved));
      }
      const [mc, mg] = await Promise.all(both.map((b) => b.readMoments()));
      expect(mg.get('sigma_net.net.0.weight')!.step).toBe(mc.get('sigma_net.net.0.weight')!.step);

      // Occupancy refresh: probe every cell at its centre.
      const R = config.march.gridResolution;
      const cells = Uint32Array.from({ length: R * R * R }, (_, i) => i);
      const points = new Float32Array(3 * cells.length);
      for (let i = 0; i < cells.length; i++) {
        // Morton order: de-interleave x, y, z bits.
        let x = 0;
        let y = 0;
        let z = 0;
        for (let b = 0; b < 10; b++) {
          x |= ((i >> (3 * b)) & 1) << b;
          y |= ((i >> (3 * b + 1)) & 1) << b;
          z |= ((i >> (3 * b + 2)) & 1) << b;
        }
        points.set([((x + 0.5) / R) * 2 - 1, ((y + 0.5) / R) * 2 - 1, ((z + 0.5) / R) * 2 - 1], 3 * i);
      }
      const upd = { condition: microCondition(config, new Rng(9)), cells, points, decay: 0.95, thresholdCap: 10, activeLevels: active };
      const [sc, sg] = await Promise.all(both.map((b) => b.updateOccupancy(upd)));
      expect(Math.abs(sg.meanDensity - sc.meanDensity) / sc.meanDensity).toBeLessThan(1e-4);
      expect(sg.threshold).toBeCloseTo(sc.threshold, 4);
      // The densities come from the GPU field: the bitfields agree but for cells within float
      // rounding of the threshold.
      const [oc, og] = await Promise.all(both.map((b) => b.readOccupancy()));
      let differ = 0;
      for (let i = 0; i < oc.bitfield.length; i++) for (let b = 0; b < 8; b++) if (((oc.bitfield[i] ^ og.bitfield[i]) >> b) & 1) differ++;
      expect(sc.occupiedFraction).toBeGreaterThan(0.05);
      expect(sc.occupiedFraction).toBeLessThan(0.95);
      expect(differ).toBeLessThanOrEqual(2);
      expect(relErr(og.density, oc.density)).toBeLessThan(1e-4);
      // Marching now follows the refreshed bitfield: one more forward still agrees.
      const rng = new Rng(77);
      const rays = microRays(config, camera, microPose(0), 24, rng);
      const condition = microCondition(config, rng);
      const [c2, g2] = await Promise.all(both.map((b) => b.headForward({ rays, condition, activeLevels: active }, false)));
      expect(g2.samples).toBe(c2.samples);
      expect(relErr(g2.rgb, c2.rgb)).toBeLessThan(1e-4);
    } finally {
      for (const b of both) b.dispose();
    }
  });

  it('refuses work before init and after dispose, and a backward without a kept forward', async () => {
    const gpu = new WebGpuTrainerBackend(ctx);
    await expect(gpu.readParams()).rejects.toThrow(/init\(\) must come first/);
    const config = microConfig({ torso: false });
    await gpu.init({ config, camera: microCamera(), groups: paramGroups(config), params: microParams(config, 1) });
    await expect(gpu.headBackward(new Float32Array(3), new Float32Array(1))).rejects.toThrow(/no kept forward/);
    gpu.dispose();
    await expect(gpu.readParams()).rejects.toThrow(/after dispose/);
  });
});
