import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { crop, mouthBox, mouthPsnr } from '../../worker/metrics/mouth.ts';
import { mse, psnr } from '../../worker/metrics/psnr.ts';
import { gaussianKernel, ssim } from '../../worker/metrics/ssim.ts';
import type { MetricImage } from '../../worker/metrics/image-pair.ts';

function img(w: number, h: number, c: number, f: (x: number, y: number, ch: number) => number): MetricImage {
  const data = new Float64Array(w * h * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = f(x, y, ch);
  return { width: w, height: h, channels: c, data };
}

/** A deterministic pseudo-random texture (LCG) so the tests do not depend on Math.random. */
function noise(w: number, h: number, c: number, seed: number): MetricImage {
  let s = seed >>> 0;
  return img(w, h, c, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32));
}

/** SSIM straight from the definition: a full 2-D Gaussian window at every valid position. */
function ssimDirect(a: MetricImage, b: MetricImage): number {
  const k = gaussianKernel();
  const n = k.length;
  const C1 = 1e-4;
  const C2 = 9e-4;
  let sum = 0;
  for (let ch = 0; ch < a.channels; ch++) {
    let total = 0;
    let count = 0;
    for (let y0 = 0; y0 + n <= a.height; y0++) {
      for (let x0 = 0; x0 + n <= a.width; x0++) {
        let mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (let j = 0; j < n; j++) {
          for (let i = 0; i < n; i++) {
            const wgt = k[i] * k[j];
            const at = ((y0 + j) * a.width + x0 + i) * a.channels + ch;
            const x = a.data[at];
            const y = b.data[at];
            mx += wgt * x;
            my += wgt * y;
            sxx += wgt * x * x;
            syy += wgt * y * y;
            sxy += wgt * x * y;
          }
        }
        const vx = sxx - mx * mx;
        const vy = syy - my * my;
        const cov = sxy - mx * my;
        total += ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
        count++;
      }
    }
    sum += total / count;
  }
  return sum / a.channels;
}

describe('PSNR', () => {
  it('is -10 log10(MSE) on [0,1] values: a uniform error of 0.1 gives 20 dB', () => {
    const a = img(8, 8, 3, () => 0.5);
    const b = img(8, 8, 3, () => 0.6);
    expect(mse(a, b)).toBeCloseTo(0.01, 12);
    expect(psnr(a, b)).toBeCloseTo(20, 9);
  });

  it('reads uint8 as value/255 and is infinite for identical images', () => {
    const a: MetricImage = { width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) };
    const b: MetricImage = { width: 2, height: 1, channels: 1, data: new Uint8Array([51, 255]) };
    // error 0.2 on one of two values: MSE 0.02 -> 16.9897 dB.
    expect(psnr(a, b)).toBeCloseTo(-10 * Math.log10(0.02), 9);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('refuses images of different shapes and non-finite values, naming them', () => {
    expect(() => psnr(img(4, 4, 3, () => 0), img(4, 5, 3, () => 0))).toThrow('psnr: images differ in shape: 4x4x3 vs 4x5x3');
    const bad = img(4, 4, 1, () => 0);
    bad.data[5] = NaN;
    expect(() => psnr(bad, img(4, 4, 1, () => 0))).toThrow(FormatError);
  });
});

describe('SSIM (Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03)', () => {
  it('has a normalised 11-tap kernel symmetric about its centre', () => {
    const k = gaussianKernel();
    expect(k).toHaveLength(11);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[10], 15);
    expect(k[5] / k[4]).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12);
  });

  it('is 1 for identical images and (2ab+C1)/(a^2+b^2+C1) for two flat images', () => {
    const t = noise(24, 20, 3, 7);
    expect(ssim(t, t)).toBeCloseTo(1, 12);
    const a = 0.3;
    const b = 0.7;
    expect(ssim(img(16, 16, 1, () => a), img(16, 16, 1, () => b))).toBeCloseTo((2 * a * b + 1e-4) / (a * a + b * b + 1e-4), 12);
  });

  it('matches a direct full-window evaluation on textured colour images', () => {
    const a = noise(23, 17, 3, 1);
    const b = img(23, 17, 3, (x, y, c) => 0.6 * a.data[(y * 23 + x) * 3 + c] + 0.2 + 0.1 * Math.sin(x + y));
    const s = ssim(a, b);
    expect(s).toBeCloseTo(ssimDirect(a, b), 10);
    expect(s).toBeGreaterThan(0.3);
    expect(s).toBeLessThan(0.99);
  });

  it('drops as noise grows', () => {
    const base = img(32, 32, 1, (x, y) => 0.5 + 0.4 * Math.sin(x / 3) * Math.cos(y / 4));
    const n = noise(32, 32, 1, 3);
    const noisy = (amp: number) => img(32, 32, 1, (x, y) => base.data[y * 32 + x] + amp * (n.data[y * 32 + x] - 0.5));
    const s1 = ssim(base, noisy(0.05));
    const s2 = ssim(base, noisy(0.2));
    expect(s1).toBeGreaterThan(s2);
    expect(s1).toBeLessThan(1);
  });

  it('refuses images smaller than the window', () => {
    expect(() => ssim(img(10, 20, 1, () => 0), img(10, 20, 1, () => 0))).toThrow('ssim: images must be at least 11x11, got 10x20');
  });
});

describe('mouth-region PSNR', () => {
  const lms = new Float32Array(136).fill(2);
  for (let i = 48; i < 68; i++) {
    lms[i * 2] = 20 + (i % 5) * 2; // columns 20..28
    lms[i * 2 + 1] = 30 + (i % 3) * 2; // rows 30..34
  }

  it('boxes points 48..67 padded by a quarter of the larger side, clamped to the image', () => {
    // width 8 -> pad 2: columns 18..30 inclusive, rows 28..36 inclusive.
    expect(mouthBox(lms, 64, 64)).toEqual({ x0: 18, y0: 28, x1: 31, y1: 37 });
    expect(mouthBox(lms, 25, 33)).toEqual({ x0: 18, y0: 28, x1: 25, y1: 33 });
  });

  it('only sees errors inside the mouth box', () => {
    const a = img(64, 64, 3, () => 0.5);
    const outside = img(64, 64, 3, (x, y) => (x < 10 || y > 50 ? 0.9 : 0.5));
    expect(mouthPsnr(a, outside, lms)).toBe(Infinity);
    const inside = img(64, 64, 3, (x, y) => (x === 24 && y === 32 ? 0.6 : 0.5));
    const box = mouthBox(lms, 64, 64);
    const n = (box.x1 - box.x0) * (box.y1 - box.y0) * 3;
    expect(mouthPsnr(a, inside, lms)).toBeCloseTo(-10 * Math.log10((3 * 0.01) / n), 8);
    expect(crop(inside, box).width).toBe(13);
  });

  it('refuses NaN landmarks and a box outside the image', () => {
    const bad = lms.slice();
    bad[50 * 2] = NaN;
    expect(() => mouthBox(bad, 64, 64)).toThrow('mouthBox.lms[50]: expected finite coordinates, got NaN, 34');
    const away = lms.map((v) => v + 500);
    expect(() => mouthBox(away, 64, 64)).toThrow(/lies outside the 64x64 image/);
  });
});
