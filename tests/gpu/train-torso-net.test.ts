/**
 * The torso stage on WebGPU (trainer/nerf/gpu/torso-net.ts through the backend) against the CPU
 * reference backend (cpu/torso-sample.ts, itself checked against finite differences in
 * tests/unit/nerf-gradcheck-torso.test.ts): forward outputs, every torso group's gradient and
 * the parameters after Adam, with all grid levels and with progressive optimisation's first
 * level only; pixel sub-batches; determinism.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParamSet, TorsoForwardInput, TrainerBackend } from '../../trainer/nerf/backend.ts';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { WebGpuTrainerBackend } from '../../trainer/nerf/gpu/backend.ts';
import { paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { microCamera, microConfig, microParams, microPose } from '../helpers/nerf-fixtures.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';
import { relErr } from '../helpers/rel-err.ts';

const config = microConfig();
const groups = paramGroups(config);
const torsoNames = groups.filter((g) => g.stage === 'torso').map((g) => g.name);

function stepInput(step: number, n: number, torsoLevels: number): { input: TorsoForwardInput; target: Float32Array } {
  const rng = new Rng(40 + step);
  // Some pixels near the edge: the deform net pushes a few outside [-1, 1], where the clamp stops the gradient.
  const coords = Float32Array.from({ length: 2 * n }, () => rng.next() * 2.4 - 1.2);
  const target = Float32Array.from({ length: 3 * n }, () => rng.next());
  return { input: { pose: microPose(0.1 + 0.2 * step), coords, activeLevels: { head: 2, condition: 2, torso: torsoLevels } }, target };
}

/** MSE on the colours plus 0.3 * alpha: both outputs get a gradient. */
function lossGrads(colors: Float32Array, target: Float32Array): { dColor: Float32Array; dAlpha: Float32Array } {
  const dColor = Float32Array.from(colors, (v, i) => (2 * (v - target[i])) / colors.length);
  return { dColor, dAlpha: new Float32Array(colors.length / 3).fill(0.3) };
}

describe('WebGPU torso stage vs the CPU backend', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('three torso steps (forward, backward, Adam) give the same outputs, gradients and parameters', async () => {
    const params = microParams(config, 11);
    const cpu = new CpuTrainerBackend();
    const gpu = new WebGpuTrainerBackend(ctx);
    const both: TrainerBackend[] = [cpu, gpu];
    for (const b of both) await b.init({ config, camera: microCamera(), groups, params });
    const lr = new Map(groups.filter((g) => g.stage === 'torso').map((g) => [g.name, g.kind === 'grid' ? 1e-2 : 3e-3]));
    try {
      // Step 1 has the first grid level only (progressive optimisation); the last step brings more pixels (the batch grows).
      for (let step = 0; step < 3; step++) {
        const { input, target } = stepInput(step, step < 2 ? 40 : 70, step === 1 ? 1 : 2);
        const [c, g] = await Promise.all(both.map((b) => b.torsoForward(input, true)));
        expect(relErr(g.alpha, c.alpha), `step ${step} alpha`).toBeLessThan(1e-4);
        expect(relErr(g.colors, c.colors), `step ${step} colours`).toBeLessThan(1e-4);
        const { dColor, dAlpha } = lossGrads(c.colors, target);
        for (const b of both) await b.torsoBackward(dColor, dAlpha);
        const [gc, gg] = await Promise.all(both.map((b) => b.readGrads()));
        for (const name of torsoNames) {
          const want = gc.get(name)!;
          expect(want.some((v) => v !== 0), `step ${step}: CPU gradient of ${name} is all zero`).toBe(true);
          // float32 GPU sums vs float64 CPU sums; measured on SwiftShader up to 7e-5, and up to
          // 1.6e-4 for the deform net, which sits behind the grid's input derivative (scaled by
          // the level resolution). A wrong index or a missing term shows as 1e-2 and more.
          const tol = name.startsWith('torso_deform_net') ? 5e-4 : 2e-4;
          expect(relErr(gg.get(name)!, want), `step ${step} grad ${name}`).toBeLessThan(tol);
        }
        if (step === 1) {
          // Level 2 not released: its table rows get no gradient on either backend.
          const t = config.torso!.grid;
          const level2 = gg.get('torso_encoder.embeddings')!.subarray(t.offsets[1] * t.featuresPerLevel);
          expect(level2.every((v) => v === 0)).toBe(true);
        }
        for (const b of both) await b.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr });
      }
      const [pc, pg] = (await Promise.all(both.map((b) => b.readParams()))) as [ParamSet, ParamSet];
      for (const name of torsoNames) {
        const moved = relErr(pc.get(name)!, params.get(name)!);
        expect(moved, `${name} moved`).toBeGreaterThan(0);
        expect(relErr(pg.get(name)!, pc.get(name)!), `param ${name}`).toBeLessThan(Math.max(1e-4, 0.05 * moved));
      }
      // The head groups were not touched by the torso steps.
      for (const g of groups.filter((x) => x.stage === 'head')) expect(pg.get(g.name)).toEqual(params.get(g.name));
      const [mc, mg] = await Promise.all(both.map((b) => b.readMoments()));
      for (const name of torsoNames) {
        expect(mg.get(name)!.step).toBe(3);
        expect(relErr(mg.get(name)!.v, mc.get(name)!.v), `moment v ${name}`).toBeLessThan(1e-3);
      }
    } finally {
      for (const b of both) b.dispose();
    }
  });

  it('pixel sub-batches (forward recomputed in the backward) give the gradient of one batch; a rerun is bit-identical', async () => {
    const params = microParams(config, 12);
    const whole = new WebGpuTrainerBackend(ctx);
    const split = new WebGpuTrainerBackend(ctx, false, { maxRaysPerBatch: 9 });
    const again = new WebGpuTrainerBackend(ctx, false, { maxRaysPerBatch: 9 });
    const all = [whole, split, again];
    try {
      for (const b of all) await b.init({ config, camera: microCamera(), groups, params });
      expect(split.torsoRaysPerBatch).toBe(9);
      const { input, target } = stepInput(7, 40, 2);
      const outs = [];
      const grads = [];
      for (const b of all) {
        const o = await b.torsoForward(input, true);
        outs.push(o);
        const { dColor, dAlpha } = lossGrads(outs[0].colors, target);
        await b.torsoBackward(dColor, dAlpha);
        grads.push(await b.readGrads());
      }
      expect(outs[1].alpha).toEqual(outs[0].alpha);
      expect(outs[1].colors).toEqual(outs[0].colors);
      for (const name of torsoNames) {
        expect(relErr(grads[1].get(name)!, grads[0].get(name)!), `split grad ${name}`).toBeLessThan(1e-5);
        expect(grads[2].get(name), `rerun grad ${name}`).toEqual(grads[1].get(name));
      }
    } finally {
      for (const b of all) b.dispose();
    }
  });

  it('refuses a torso backward without a kept forward, and torso work on a model without a torso', async () => {
    const gpu = new WebGpuTrainerBackend(ctx);
    const noTorso = new WebGpuTrainerBackend(ctx);
    try {
      await gpu.init({ config, camera: microCamera(), groups, params: microParams(config, 1) });
      await expect(gpu.torsoBackward(new Float32Array(3), new Float32Array(1))).rejects.toThrow(/no kept torso forward/);
      await expect(gpu.torsoForward({ ...stepInput(0, 4, 2).input, coords: new Float32Array(3) }, false)).rejects.toThrow(/2 values per pixel/);
      const c2 = microConfig({ torso: false });
      await noTorso.init({ config: c2, camera: microCamera(), groups: paramGroups(c2), params: microParams(c2, 1) });
      await expect(noTorso.torsoForward(stepInput(0, 4, 2).input, false)).rejects.toThrow(/no torso/);
    } finally {
      gpu.dispose();
      noTorso.dispose();
    }
  });
});
