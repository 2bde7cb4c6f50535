/**
 * The head stage's whole backward (conditioning MLPs and landmark grid, FiLM sigma net,
 * density activation, SH + colour net, head grid, compositing, background blend, MSE and
 * weight-sum entropy) through the CPU backend, against central finite differences of its own
 * forward, for entries of every head parameter group.
 */
import { describe, expect, it } from 'vitest';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { conditionForward } from '../../trainer/nerf/cpu/conditioning.ts';
import { createHeadSampleCache, headSampleForward } from '../../trainer/nerf/cpu/head-sample.ts';
import { headNet } from '../../trainer/nerf/cpu/network.ts';
import { blendBackground, blendBackgroundBackward, mseLoss, weightEntropyLoss } from '../../trainer/nerf/losses.ts';
import { paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import type { ActiveLevels, ParamSet } from '../../trainer/nerf/backend.ts';
import { LandmarkConditioner, computeFilm } from '../../worker/model/conditioning.ts';
import { createHeadScratch, headSample } from '../../worker/model/head-field.ts';
import { prepareGrid } from '../../worker/model/grid.ts';
import type { ModelWeights } from '../../worker/model/weights.ts';
import { centralDifference, microCamera, microCondition, microConfig, microParams, microPose, microRays } from '../helpers/nerf-fixtures.ts';

const ENTROPY = 0.05;

async function setup(opts: { eyeInput?: boolean; active?: ActiveLevels } = {}) {
  const config = microConfig({ torso: false, eyeInput: opts.eyeInput });
  const camera = microCamera();
  const params = microParams(config, 7);
  const groups = paramGroups(config);
  const backend = new CpuTrainerBackend();
  await backend.init({ config, camera, groups, params });
  const rng = new Rng(3);
  const rays = microRays(config, camera, microPose(), 12, rng);
  const condition = microCondition(config, rng);
  const bg = Float64Array.from({ length: rays.count * 3 }, () => rng.next());
  const target = Float64Array.from({ length: rays.count * 3 }, () => rng.next());
  const activeLevels = opts.active ?? { head: 2, condition: 2, torso: 2 };
  const input = { condition, rays, activeLevels };
  const loss = async (keep: boolean) => {
    const out = await backend.headForward(input, keep);
    const o = backend.lastHeadOutputs64();
    const color = new Float64Array(rays.count * 3);
    blendBackground(o.rgb, o.weightSum, bg, color);
    const dColor = new Float64Array(color.length);
    const dWs = new Float64Array(rays.count);
    const mse = mseLoss(color, target, null, dColor);
    const ent = weightEntropyLoss(o.weightSum, ENTROPY, dWs);
    const dRgb = new Float64Array(color.length);
    blendBackgroundBackward(dColor, bg, dRgb, dWs);
    return { value: mse + ENTROPY * ent, dRgb: Float32Array.from(dRgb), dWs: Float32Array.from(dWs), samples: out.samples };
  };
  return { config, params, groups, backend, loss, input };
}

async function check(s: Awaited<ReturnType<typeof setup>>, names: string[]) {
  const first = await s.loss(true);
  expect(first.samples).toBeGreaterThan(s.input.rays.count * 4);
  await s.backend.headBackward(first.dRgb, first.dWs);
  const grads = await s.backend.readGrads();
  const rng = new Rng(11);
  const worst: Record<string, number> = {};
  for (const name of names) {
    const g = grads.get(name)!;
    const p = s.params.get(name)!;
    let gmax = 0;
    for (let i = 0; i < g.length; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    expect(gmax, `${name} has a non-zero gradient`).toBeGreaterThan(0);
    // The largest entries plus random ones (which may be zero: those must stay zero).
    const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    const picks = new Set([...order.slice(0, 5), ...Array.from({ length: 3 }, () => rng.int(g.length))]);
    let err = 0;
    for (const i of picks) {
      const fd = await centralDifference(s.params, name, i, 1e-4, async () => {
        await s.backend.writeParams(new Map([[name, p]]) as ParamSet);
        return (await s.loss(false)).value;
      });
      await s.backend.writeParams(new Map([[name, p]]) as ParamSet);
      err = Math.max(err, Math.abs(fd - g[i]) / gmax);
    }
    worst[name] = err;
  }
  if (process.env.NERF_GRADCHECK_VERBOSE) console.log(worst);
  for (const [name, e] of Object.entries(worst)) expect(e, `${name}: max |fd - analytic| / max|grad|`).toBeLessThan(1e-3);
}

describe('head stage backward (CPU reference) vs finite differences', () => {
  it('matches for every head parameter group, eye input on', async () => {
    const s = await setup();
    const names = s.groups.filter((g) => g.stage === 'head').map((g) => g.name);
    expect(names).toContain('mlp_lms_style_2.net.0.weight');
    await check(s, names);
  });

  it('matches with the eye input off and with only the coarse level released (progressive optimisation)', async () => {
    const s = await setup({ eyeInput: false, active: { head: 1, condition: 1, torso: 2 } });
    await check(s, ['encoder.embeddings', 'encoder_idexp_lm3d.embeddings', 'sigma_net.net.0.weight', 'mlp_lms_style_1.net.0.weight']);
    // Finer levels are masked: their table rows get no gradient from the level they belong to.
    const first = await s.loss(true);
    await s.backend.headBackward(first.dRgb, first.dWs);
    const g = (await s.backend.readGrads()).get('encoder.embeddings')!;
    const level1 = s.config.head.grid.offsets[1] * s.config.head.grid.featuresPerLevel;
    expect(g.subarray(level1).every((v) => v === 0)).toBe(true);
    expect(g.subarray(0, level1).some((v) => v !== 0)).toBe(true);
  });
});

describe('training forward = renderer forward', () => {
  it('conditioning and head sample agree with worker/model (float32 tolerance)', () => {
    const config = microConfig({ torso: false });
    const params = microParams(config, 5);
    const net = headNet(config, params);
    const rng = new Rng(8);
    const cond = microCondition(config, rng);
    const cache = conditionForward(net, cond.points, 2);
    const weights = {
      config,
      headGrid: prepareGrid(config.head.grid, params.get('encoder.embeddings')!),
      lmGrid: prepareGrid(config.condition.grid, params.get('encoder_idexp_lm3d.embeddings')!),
      torsoGrid: null,
      sigma: net.sigma,
      color: net.color,
      film: net.film,
      individual: net.individual,
      bitfield: new Uint8Array(64).fill(255),
      torso: null,
      background: new Float32Array(0),
      width: 8,
      height: 8,
    } as ModelWeights;
    const stats = { mean: new Float32Array(204), std: new Float32Array(204).fill(1) };
    const code = new LandmarkConditioner(weights, stats).code(cond.points);
    const film = computeFilm(weights, code);
    for (let i = 0; i < film.film1.length; i++) {
      expect(cache.film[0][i]).toBeCloseTo(film.film1[i], 5);
      expect(cache.film[1][i]).toBeCloseTo(film.film2[i], 5);
    }
    const c = createHeadSampleCache(net);
    const scratch = createHeadScratch(weights);
    const out = new Float32Array(4);
    for (let k = 0; k < 20; k++) {
      const x = [rng.next() * 2 - 1, rng.next() - 0.5, rng.next() * 2 - 1];
      const d = [0.1, -0.2, Math.sqrt(1 - 0.05)];
      headSampleForward(net, cache.film[0], cache.film[1], 0.3, 2, x, d, c);
      headSample(weights, film.film1, film.film2, 0.3, x, d, scratch, out);
      expect(c.sigma).toBeCloseTo(out[0], 4);
      for (let q = 0; q < 3; q++) expect(c.rgb[q]).toBeCloseTo(out[1 + q], 5);
    }
  });
});
