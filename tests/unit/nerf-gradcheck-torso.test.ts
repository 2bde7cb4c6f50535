/**
 * The torso stage's backward (torso net, 2-D grid table, the grid's input gradient into the
 * deform net, torso code) through the CPU backend against central finite differences, the
 * training forward against worker/model/torso.ts, and the grid input gradient on its own.
 */
import { describe, expect, it } from 'vitest';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { gridInputBackward } from '../../trainer/nerf/cpu/grid-input-backward.ts';
import { torsoNet } from '../../trainer/nerf/cpu/network.ts';
import { createTorsoSampleCache, torsoSampleForward, torsoSetPose } from '../../trainer/nerf/cpu/torso-sample.ts';
import { paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import type { ParamSet } from '../../trainer/nerf/backend.ts';
import { encodeGrid, prepareGrid } from '../../worker/model/grid.ts';
import { TorsoPath } from '../../worker/model/torso.ts';
import type { ModelWeights } from '../../worker/model/weights.ts';
import { centralDifference, microCamera, microConfig, microParams, microPose } from '../helpers/nerf-fixtures.ts';

describe('grid input gradient', () => {
  it('matches central differences of encodeGrid in u (2-D and 3-D, inside cells)', () => {
    const rng = new Rng(2);
    for (const dims of [2, 3] as const) {
      const config = microConfig();
      const g = dims === 2 ? config.torso!.grid : config.head.grid;
      const table = Float32Array.from({ length: g.offsets[g.levels] * g.featuresPerLevel }, () => rng.next() * 2 - 1);
      const grid = prepareGrid(g, table);
      const width = g.levels * g.featuresPerLevel;
      const coef = Float64Array.from({ length: width }, () => rng.next() * 2 - 1);
      const f = (u: number[]) => {
        const out = new Float32Array(width);
        encodeGrid(grid, u, out, 0);
        return out.reduce((s, v, i) => s + v * coef[i], 0);
      };
      for (let trial = 0; trial < 10; trial++) {
        const u = Array.from({ length: dims }, () => 0.1 + rng.next() * 0.8);
        const du = new Float64Array(dims);
        gridInputBackward(grid, u, coef, 0, g.levels, du);
        for (let d = 0; d < dims; d++) {
          const h = 1e-4;
          const up = u.slice();
          up[d] += h;
          const dn = u.slice();
          dn[d] -= h;
          // Skip a difference that straddles a cell boundary (the encoding is only piecewise smooth).
          const fd = (f(up) - f(dn)) / (2 * h);
          expect(Math.abs(fd - du[d])).toBeLessThan(2e-2 * Math.max(1, Math.abs(du[d])));
        }
      }
    }
  });
});

describe('torso stage backward (CPU reference) vs finite differences', () => {
  it('matches for every torso parameter group', async () => {
    const config = microConfig();
    const params = microParams(config, 13);
    const groups = paramGroups(config);
    const backend = new CpuTrainerBackend();
    await backend.init({ config, camera: microCamera(), groups, params });
    const rng = new Rng(5);
    const N = 24;
    const coords = Float32Array.from({ length: 2 * N }, () => rng.next() * 1.8 - 0.9);
    const target = Float64Array.from({ length: 3 * N }, () => rng.next());
    const input = { pose: microPose(0.2), coords, activeLevels: { head: 2, condition: 2, torso: 2 } };
    // L = sum (colour - target)^2 + 0.7 * sum alpha: exercises both outputs.
    const loss = async (keep: boolean) => {
      await backend.torsoForward(input, keep);
      const o64 = backend.lastTorsoOutputs64();
      const o = { colors: Float64Array.from({ length: 3 * N }, (_, i) => o64[4 * Math.floor(i / 3) + 1 + (i % 3)]), alpha: Float64Array.from({ length: N }, (_, i) => o64[4 * i]) };
      let s = 0;
      const dColor = new Float32Array(3 * N);
      const dAlpha = new Float32Array(N).fill(0.7);
      for (let i = 0; i < 3 * N; i++) {
        s += (o.colors[i] - target[i]) ** 2;
        dColor[i] = 2 * (o.colors[i] - target[i]);
      }
      for (let i = 0; i < N; i++) s += 0.7 * o.alpha[i];
      return { s, dColor, dAlpha };
    };
    const first = await loss(true);
    await backend.torsoBackward(first.dColor, first.dAlpha);
    const grads = await backend.readGrads();
    const names = groups.filter((g) => g.stage === 'torso').map((g) => g.name);
    expect(names.length).toBe(8);
    const pick = new Rng(1);
    for (const name of names) {
      const g = grads.get(name)!;
      const p = params.get(name)!;
      let gmax = 0;
      for (const v of g) gmax = Math.max(gmax, Math.abs(v));
      expect(gmax, name).toBeGreaterThan(0);
      const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      for (const i of new Set([...order.slice(0, 4), pick.int(g.length), pick.int(g.length)])) {
        // The deform net (and the torso code, its input) reaches the loss through the float32 grid coordinate (as in the renderer):
        // a step small enough for its rounding to vanish does not exist, so it gets a coarser step
        // and a 1% tolerance; every other group is float64 downstream of its parameters.
        const deform = name.startsWith('torso_deform_net') || name === 'individual_code_torso';
        const fd = await centralDifference(params, name, i, deform ? 2e-3 : 1e-4, async () => {
          await backend.writeParams(new Map([[name, p]]) as ParamSet);
          return (await loss(false)).s;
        });
        await backend.writeParams(new Map([[name, p]]) as ParamSet);
        expect(Math.abs(fd - g[i]) / gmax, `${name}[${i}] fd ${fd} analytic ${g[i]}`).toBeLessThan(deform ? 1e-2 : 1e-3);
      }
    }
  });

  it('training forward matches TorsoPath.sample of the renderer', () => {
    const config = microConfig();
    const params = microParams(config, 3);
    const net = torsoNet(config, params);
    const weights = {
      config,
      torsoGrid: prepareGrid(config.torso!.grid, params.get('torso_encoder.embeddings')!),
      torso: { deform: net.deform, net: net.net, individual: net.individual, densityGrid: new Float32Array(64).fill(1), densityThreshold: 0.01 },
    } as unknown as ModelWeights;
    const path = new TorsoPath(weights);
    const pose = microPose(0.3);
    path.setPose(pose);
    const c = createTorsoSampleCache(net);
    torsoSetPose(net, pose, c);
    const out = new Float32Array(4);
    const rng = new Rng(6);
    for (let k = 0; k < 20; k++) {
      const qr = rng.next() * 2 - 1;
      const qc = rng.next() * 2 - 1;
      path.sample(qr, qc, out);
      torsoSampleForward(net, qr, qc, config.torso!.grid.levels, c);
      for (let q = 0; q < 4; q++) expect(c.out[q]).toBeCloseTo(out[q], 5);
    }
  });
});
