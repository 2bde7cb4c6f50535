/**
 * Compositing, background blend, MSE, weight-sum entropy and the SSIM structural loss: each
 * gradient against central finite differences in float64.
 */
import { describe, expect, it } from 'vitest';
import { compositeBackward, compositeForward, type CompositeResult } from '../../trainer/nerf/cpu/composite.ts';
import { blendBackground, blendBackgroundBackward, gaussianWindow, maskLoss, MASK_FREE, mseLoss, ssimLoss, weightEntropyLoss } from '../../trainer/nerf/losses.ts';
import { Rng } from '../../trainer/nerf/rng.ts';

function fdCheck(x: Float64Array, analytic: Float64Array, f: () => number, h = 1e-6): number {
  let worst = 0;
  let scale = 0;
  for (const v of analytic) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + h;
    const up = f();
    x[i] = old - h;
    const down = f();
    x[i] = old;
    worst = Math.max(worst, Math.abs((up - down) / (2 * h) - analytic[i]));
  }
  return worst / Math.max(scale, 1e-12);
}

describe('compositing backward', () => {
  const rng = new Rng(4);
  const n = 10;
  const sigma = Float64Array.from({ length: n }, () => rng.next() * 30);
  const rgb = Float64Array.from({ length: 3 * n }, () => rng.next());
  const dt = Float64Array.from({ length: n }, () => 0.02 + rng.next() * 0.05);
  const coef = [0.3, -0.7, 0.5];
  const wsCoef = 0.9;
  const loss = () => {
    const r: CompositeResult = { used: 0, r: 0, g: 0, b: 0, weightSum: 0 };
    compositeForward(sigma, rgb, dt, n, 0, r);
    return coef[0] * r.r + coef[1] * r.g + coef[2] * r.b + wsCoef * r.weightSum;
  };

  it('dL/dsigma and dL/drgb match central differences', () => {
    const res: CompositeResult = { used: 0, r: 0, g: 0, b: 0, weightSum: 0 };
    compositeForward(sigma, rgb, dt, n, 0, res);
    expect(res.used).toBe(n);
    expect(res.weightSum).toBeGreaterThan(0.5);
    expect(res.weightSum).toBeLessThan(1);
    const dSigma = new Float64Array(n);
    const dRgb = new Float64Array(3 * n);
    compositeBackward(sigma, rgb, dt, res, coef, wsCoef, dSigma, dRgb);
    expect(fdCheck(sigma, dSigma, loss)).toBeLessThan(1e-7);
    expect(fdCheck(rgb, dRgb, loss)).toBeLessThan(1e-7);
  });

  it('stops at the transmittance threshold, counting the sample that crossed it', () => {
    const s = Float64Array.from([1e4, 5, 5]);
    const c = new Float64Array(9).fill(0.5);
    const d = Float64Array.from([0.03, 0.03, 0.03]);
    const r: CompositeResult = { used: 0, r: 0, g: 0, b: 0, weightSum: 0 };
    compositeForward(s, c, d, 3, 1e-4, r);
    expect(r.used).toBe(1);
    expect(r.weightSum).toBeCloseTo(1, 9);
  });
});

describe('losses', () => {
  const rng = new Rng(9);
  const N = 7;
  it('blend + MSE + entropy gradients match central differences', () => {
    const rgb = Float64Array.from({ length: 3 * N }, () => rng.next() * 0.6);
    const ws = Float64Array.from({ length: N }, () => 0.05 + rng.next() * 0.9);
    const bg = Float64Array.from({ length: 3 * N }, () => rng.next());
    const target = Float64Array.from({ length: 3 * N }, () => rng.next());
    const weights = Float64Array.from({ length: N }, () => 0.5 + rng.next());
    const lambda = 0.2;
    const f = () => {
      const color = new Float64Array(3 * N);
      blendBackground(rgb, ws, bg, color);
      return mseLoss(color, target, weights, new Float64Array(3 * N)) + lambda * weightEntropyLoss(ws, 0, new Float64Array(N));
    };
    const color = new Float64Array(3 * N);
    blendBackground(rgb, ws, bg, color);
    const dColor = new Float64Array(3 * N);
    mseLoss(color, target, weights, dColor);
    const dWs = new Float64Array(N);
    weightEntropyLoss(ws, lambda, dWs);
    const dRgb = new Float64Array(3 * N);
    blendBackgroundBackward(dColor, bg, dRgb, dWs);
    expect(fdCheck(rgb, dRgb, f)).toBeLessThan(1e-7);
    expect(fdCheck(ws, dWs, f)).toBeLessThan(1e-7);
  });

  it('entropy is 1 bit at 0.5, ~0 at the clamp, and passes no gradient where clamped', () => {
    const d = new Float64Array(3);
    expect(weightEntropyLoss(Float64Array.from([0.5]), 1, new Float64Array(1))).toBeCloseTo(1, 12);
    const e = weightEntropyLoss(Float64Array.from([0, 1, 0.5]), 1, d);
    expect(e).toBeCloseTo((2 * 1.8e-4 + 1) / 3, 4);
    expect(d[0]).toBe(0);
    expect(d[1]).toBe(0);
    expect(d[2]).toBeCloseTo(0, 12);
  });

  it('SSIM: 0 loss for identical patches, gradient matches central differences', () => {
    const size = 9;
    const win = gaussianWindow(5, 1.5);
    const target = Float64Array.from({ length: size * size * 3 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37));
    const dSame = new Float64Array(target.length);
    expect(ssimLoss(target, target, size, win, 1, dSame)).toBeCloseTo(0, 12);
    const x = Float64Array.from(target, (v) => Math.min(1, Math.max(0, v + (rng.next() - 0.5) * 0.3)));
    const d = new Float64Array(x.length);
    const l = ssimLoss(x, target, size, win, 1, d);
    expect(l).toBeGreaterThan(0.01);
    expect(fdCheck(x, d, () => ssimLoss(x, target, size, win, 1, new Float64Array(x.length)))).toBeLessThan(1e-6);
  });

  it('SSIM prefers a sharp patch over a blurred one of similar MSE (why it stands in for LPIPS)', () => {
    const size = 12;
    const win = gaussianWindow(7, 1.5);
    // Vertical stripes (a mouth edge pattern) as the target.
    const target = Float64Array.from({ length: size * size * 3 }, (_, i) => ((Math.floor(i / 3) % size) % 4 < 2 ? 0.8 : 0.2));
    const blurred = Float64Array.from(target, () => 0.5);
    const noisy = Float64Array.from(target, (v, i) => v + (i % 2 ? 0.3 : -0.3));
    const mse = (a: Float64Array) => a.reduce((s, v, i) => s + (v - target[i]) ** 2, 0) / a.length;
    expect(mse(noisy)).toBeGreaterThanOrEqual(mse(blurred));
    const sBlur = ssimLoss(blurred, target, size, win, 1, new Float64Array(target.length));
    const sNoisy = ssimLoss(noisy, target, size, win, 1, new Float64Array(target.length));
    expect(sNoisy).toBeLessThan(sBlur);
  });

  it('mask loss: gradient matches central differences; free rays add nothing; bad targets are refused', () => {
    const n = 9;
    const ws = Float64Array.from({ length: n }, () => rng.next());
    const target = Float64Array.from([1, 0, MASK_FREE, 1, 1, 0, MASK_FREE, 0, 1]);
    const scale = 0.3;
    const d = new Float64Array(n);
    const l = maskLoss(ws, target, scale, d);
    let expected = 0;
    for (let i = 0; i < n; i++) if (target[i] !== MASK_FREE) expected += (ws[i] - target[i]) ** 2;
    expect(l).toBeCloseTo(expected / n, 12);
    expect(fdCheck(ws, d, () => scale * maskLoss(ws, target, scale, new Float64Array(n)))).toBeLessThan(1e-7);
    expect(d[2]).toBe(0);
    expect(d[6]).toBe(0);
    // It adds into the gradient (the entropy term shares the buffer).
    const acc = new Float64Array(n).fill(1);
    maskLoss(ws, target, scale, acc);
    for (let i = 0; i < n; i++) expect(acc[i]).toBeCloseTo(1 + d[i], 12);
    expect(() => maskLoss(ws, Float64Array.from(target, (v, i) => (i === 4 ? 0.5 : v)), 1, new Float64Array(n))).toThrow(/target 4 must be 0, 1 or MASK_FREE/);
    expect(() => maskLoss(ws, target.subarray(1), 1, new Float64Array(n))).toThrow(/expected 9 targets/);
  });
});
