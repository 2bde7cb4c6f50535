/**
 * SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) as the original code computes it: an 11x11
 * Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, data range 1, statistics over 'valid'
 * windows only (no padding), population (biased) variances; the mean over the SSIM map and
 * then over channels. Images smaller than the window are refused rather than padded.
 */
import { FormatError } from '../errors.ts';
import { checkPair, unit, type MetricImage } from './image-pair.ts';

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** The normalised 1-D Gaussian; the 2-D window is its outer product (separable). */
export function gaussianKernel(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

/** 'valid' separable filtering of one plane: out is (w-n+1) x (h-n+1). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * src[y * w + x + i];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * tmp[(y + i) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM over the map of one channel plane. */
function ssimPlane(x: Float64Array, y: Float64Array, w: number, h: number, k: Float64Array): number {
  const n = x.length;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const mx = filterValid(x, w, h, k);
  const my = filterValid(y, w, h, k);
  const sxx = filterValid(xx, w, h, k);
  const syy = filterValid(yy, w, h, k);
  const sxy = filterValid(xy, w, h, k);
  let total = 0;
  for (let i = 0; i < mx.length; i++) {
    const vx = sxx[i] - mx[i] * mx[i];
    const vy = syy[i] - my[i] * my[i];
    const cov = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + C1) * (2 * cov + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return total / mx.length;
}

export function ssim(a: MetricImage, b: MetricImage): number {
  checkPair(a, b, 'ssim');
  const { width: w, height: h, channels: c } = a;
  if (w < SSIM_WINDOW || h < SSIM_WINDOW) throw FormatError.input('ssim', `images must be at least ${SSIM_WINDOW}x${SSIM_WINDOW}, got ${w}x${h}`);
  const x = unit(a, 'ssim.a');
  const y = unit(b, 'ssim.b');
  const k = gaussianKernel();
  let sum = 0;
  for (let ch = 0; ch < c; ch++) {
    const px = new Float64Array(w * h);
    const py = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) {
      px[i] = x[i * c + ch];
      py[i] = y[i * c + ch];
    }
    sum += ssimPlane(px, py, w, h, k);
  }
  return sum / c;
}
