/** linear / ReLU / FiLM backward (the building blocks the GPU kernels are compared with) vs central differences. */
import { describe, expect, it } from 'vitest';
import { filmBackward, linearBackward, linearForward, reluBackward } from '../../trainer/nerf/cpu/mlp-backward.ts';
import { Rng } from '../../trainer/nerf/rng.ts';

describe('FiLM layer backward', () => {
  it('y = relu((W x) * (1 + b) + a): dW, dx, da, db match central differences', () => {
    const rng = new Rng(21);
    const inDim = 7;
    const H = 5;
    const W = Float32Array.from({ length: H * inDim }, () => rng.next() * 2 - 1);
    const x = Float64Array.from({ length: inDim }, () => rng.next() * 2 - 1);
    const g = Float64Array.from({ length: 2 * H }, () => rng.next() - 0.5);
    const c = Float64Array.from({ length: H }, () => rng.next() * 2 - 1);
    const forward = () => {
      const pre = new Float64Array(H);
      linearForward(W, H, inDim, x, 0, pre, 0);
      const y = new Float64Array(H);
      for (let i = 0; i < H; i++) y[i] = Math.max(0, pre[i] * (1 + g[H + i]) + g[i]);
      return { pre, y, loss: y.reduce((s, v, i) => s + v * c[i], 0) };
    };
    const { pre, y } = forward();
    expect(y.some((v) => v > 0) && y.some((v) => v === 0)).toBe(true);
    const dy = Float64Array.from(c);
    reluBackward(y, 0, dy, 0, H);
    const dg = new Float64Array(2 * H);
    filmBackward(pre, 0, H, g, dy, 0, dg);
    const dW = new Float64Array(W.length);
    const dx = new Float64Array(inDim);
    linearBackward(W, H, inDim, x, 0, dy, 0, dW, dx, 0);
    const h = 1e-6;
    const fd = (arr: Float64Array, i: number) => {
      const old = arr[i];
      arr[i] = old + h;
      const up = forward().loss;
      arr[i] = old - h;
      const down = forward().loss;
      arr[i] = old;
      return (up - down) / (2 * h);
    };
    for (let i = 0; i < inDim; i++) expect(dx[i]).toBeCloseTo(fd(x, i), 7);
    for (let i = 0; i < 2 * H; i++) expect(dg[i]).toBeCloseTo(fd(g, i), 7);
    for (let i = 0; i < W.length; i++) {
      const old = W[i];
      W[i] = old + 1e-3;
      const up = forward().loss;
      const du = W[i] - old;
      W[i] = old - 1e-3;
      const down = forward().loss;
      const dd = old - W[i];
      W[i] = old;
      expect(dW[i]).toBeCloseTo((up - down) / (du + dd), 6);
    }
  });
});
