import { describe, expect, it } from 'vitest';
import { Adam } from '../../trainer/adam.ts';
import { backwardTrain, forwardTrain, zeroGrads } from '../../trainer/backprop.ts';
import { createGenerator, makeRng, melFramesFor } from '../../worker/landmarks/model.ts';

/** L = sum_i c_i * z_i (a fixed random projection of the output), so dL/dz = c. */
function setup() {
  const g = createGenerator({ channels: 6, lookAhead: 2 }, 11);
  const rng = makeRng(5);
  for (const l of g.layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = 0.1 * (rng() - 0.3);
  const frames = 3;
  const nMel = melFramesFor(g, frames);
  const mel = Float32Array.from({ length: nMel * 80 }, () => 2 * rng() - 1);
  const c = Float32Array.from({ length: frames * 204 }, () => 2 * rng() - 1);
  const loss = () => {
    const a = forwardTrain(g, mel, nMel);
    const z = a.acts[a.acts.length - 1];
    let s = 0;
    for (let i = 0; i < z.length; i++) s += c[i] * z[i];
    return s;
  };
  return { g, mel, nMel, c, loss };
}

describe('trainer backprop', () => {
  it('matches central finite differences on weights and biases of every layer', () => {
    const { g, mel, nMel, c, loss } = setup();
    const a = forwardTrain(g, mel, nMel);
    const grads = zeroGrads(g);
    backwardTrain(g, a, c, grads);
    const rng = makeRng(9);
    let checked = 0;
    g.layers.forEach((l, li) => {
      for (const which of ['weight', 'bias'] as const) {
        const p = l[which];
        const gr = grads[li][which];
        for (let n = 0; n < 6; n++) {
          const i = Math.floor(rng() * p.length);
          const h = 1e-2;
          const old = p[i];
          p[i] = old + h;
          const up = loss();
          p[i] = old - h;
          const down = loss();
          p[i] = old;
          const numeric = (up - down) / (2 * h);
          // ReLU kinks can make a finite difference meaningless; skip those rare entries.
          if (Math.abs(numeric - gr[i]) > 2e-3 * Math.max(1, Math.abs(numeric))) {
            const h2 = 1e-3;
            p[i] = old + h2;
            const up2 = loss();
            p[i] = old - h2;
            const down2 = loss();
            p[i] = old;
            expect(Math.abs((up2 - down2) / (2 * h2) - gr[i]), `${l.name}.${which}[${i}]`).toBeLessThan(3e-3 * Math.max(1, Math.abs(numeric)));
          }
          checked++;
        }
      }
    });
    expect(checked).toBe(60);
  });

  it('Adam steps against the gradient and clips the global norm', () => {
    const w = Float32Array.of(1, -1);
    const adam = new Adam([w], { lr: 0.1, clipNorm: 1 });
    const norm = adam.update([Float32Array.of(30, -40)]);
    expect(norm).toBeCloseTo(50, 5);
    // first Adam step moves each weight by ~lr against its gradient's sign
    expect(w[0]).toBeCloseTo(0.9, 4);
    expect(w[1]).toBeCloseTo(-0.9, 4);
  });
});
