/**
 * The training losses and the background blend, shared by every backend (a backend returns the
 * head's premultiplied colour and weight sum; everything here runs on the loop's side).
 * Each function returns the loss and writes its gradient; tests check every gradient against
 * central finite differences (tests/unit/nerf-gradcheck-losses.test.ts).
 */
import { ConfigError } from '../../worker/errors.ts';
import { PARSING_LABEL } from '../../worker/subject/layout.ts';

export type Vec = Float32Array | Float64Array;

/** colour = rgb + (1 - weightSum) * background per ray (3 per ray). */
export function blendBackground(rgb: Vec, weightSum: Vec, background: Vec, out: Vec): void {
  const n = weightSum.length;
  for (let i = 0; i < n; i++) {
    const rest = 1 - weightSum[i];
    for (let k = 0; k < 3; k++) out[3 * i + k] = rgb[3 * i + k] + rest * background[3 * i + k];
  }
}

/** Backward of blendBackground: dRgb = dColour; dWeightSum = -dColour . background (added to dWeightSum). */
export function blendBackgroundBackward(dColor: Vec, background: Vec, dRgb: Vec, dWeightSum: Vec): void {
  const n = dWeightSum.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < 3; k++) {
      dRgb[3 * i + k] = dColor[3 * i + k];
      s += dColor[3 * i + k] * background[3 * i + k];
    }
    dWeightSum[i] -= s;
  }
}

/** Mean over rays and channels of weight * (colour - target)^2; writes dL/dcolour. weights: per ray, or null for 1. */
export function mseLoss(color: Vec, target: Vec, weights: Vec | null, dColor: Vec): number {
  const m = color.length;
  if (target.length !== m || dColor.length !== m || m % 3 !== 0) throw new ConfigError(`mseLoss: expected colour, target and gradient of one length (3 per ray), got ${m}, ${target.length}, ${dColor.length}`);
  let s = 0;
  for (let i = 0; i < m; i++) {
    const w = weights ? weights[(i / 3) | 0] : 1;
    const d = color[i] - target[i];
    s += w * d * d;
    dColor[i] = (2 * w * d) / m;
  }
  return s / m;
}

/** The reference's clamp of the weight sum before its entropy (log2 of 0 or 1 is undefined). */
export const ENTROPY_CLAMP = 1e-5;

/**
 * Mean binary entropy (bits) of each ray's weight sum a, clamped to [1e-5, 1 - 1e-5]:
 * -(a log2 a + (1-a) log2 (1-a)). It pushes every ray to be either fully head or fully
 * background. Adds scale * dL/da into dWeightSum; returns the unscaled mean.
 */
export function weightEntropyLoss(weightSum: Vec, scale: number, dWeightSum: Vec): number {
  const n = weightSum.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const raw = weightSum[i];
    const a = Math.min(1 - ENTROPY_CLAMP, Math.max(ENTROPY_CLAMP, raw));
    s += -(a * Math.log2(a) + (1 - a) * Math.log2(1 - a));
    // The clamp passes no gradient outside its range.
    if (raw > ENTROPY_CLAMP && raw < 1 - ENTROPY_CLAMP) dWeightSum[i] += (scale * Math.log2((1 - a) / a)) / n;
  }
  return s / n;
}

/** Per-ray opacity target of maskLoss: the weight sum should be 1 (head), 0 (background), or is free. */
export const MASK_FREE = -1;

/**
 * Squared error of each ray's weight sum against its parsing target (1 on head pixels, 0 on
 * background pixels; rays with target MASK_FREE, the neck and torso, add nothing), averaged
 * over all rays. Adds scale * dL/da into dWeightSum; returns the unscaled mean.
 *
 * Why: the head stage composites over torso_imgs, whose neck is inpainted upward under the
 * face. Where that neck has the face's colour, a see-through face scores as well as an opaque
 * one, so colour alone leaves a hole in the head that shows once the torso net (not the
 * torso image) is behind it. The parsing says which pixels are head; this term makes them opaque.
 */
export function maskLoss(weightSum: Vec, target: Vec, scale: number, dWeightSum: Vec): number {
  const n = weightSum.length;
  if (target.length !== n || dWeightSum.length !== n) throw new ConfigError(`maskLoss: expected ${n} targets and gradients, got ${target.length} and ${dWeightSum.length}`);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const t = target[i];
    if (t === MASK_FREE) continue;
    if (t !== 0 && t !== 1) throw new ConfigError(`maskLoss: target ${i} must be 0, 1 or MASK_FREE, got ${t}`);
    const d = weightSum[i] - t;
    s += d * d;
    dWeightSum[i] += (scale * 2 * d) / n;
  }
  return s / n;
}

/** maskLoss targets of the given pixels from parsing labels: head 1, background 0, neck and torso free. */
export function maskTargets(parsing: Uint8Array, pixels: Uint32Array): Float64Array {
  const t = new Float64Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const l = parsing[pixels[i]];
    t[i] = l === PARSING_LABEL.head ? 1 : l === PARSING_LABEL.background ? 0 : MASK_FREE;
  }
  return t;
}

/** SSIM constants for data in [0, 1] (Wang et al. 2004: K1 = 0.01, K2 = 0.03, L = 1). */
export const SSIM_C1 = 0.01 ** 2;
export const SSIM_C2 = 0.03 ** 2;

/** Normalised 1-D Gaussian of `size` taps (the separable SSIM window). */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += g[i];
  }
  for (let i = 0; i < size; i++) g[i] /= s;
  return g;
}

/**
 * 1 - mean SSIM of a size x size RGB patch (3 values per pixel, row-major) against the target,
 * over every 'valid' position of a Gaussian window (per channel), and its gradient w.r.t. the
 * patch (written to dColor, scaled by `scale`).
 *
 * It stands in for the reference's LPIPS on the lips (no LPIPS backbone weights can be
 * installed here): like LPIPS it compares local structure (means, contrast, correlation) rather
 * than per-pixel error, so a blurred mouth scores worse than an MSE-equivalent sharp one.
 */
export function ssimLoss(color: Vec, target: Vec, size: number, window: Float64Array, scale: number, dColor: Vec): number {
  const k = window.length;
  if (!Number.isInteger(size) || size < k) throw new ConfigError(`ssimLoss: patch side ${size} must be at least the window (${k})`);
  if (color.length !== size * size * 3 || target.length !== color.length || dColor.length !== color.length) {
    throw new ConfigError(`ssimLoss: expected ${size * size * 3} values per patch, got ${color.length}, ${target.length}, ${dColor.length}`);
  }
  const positions = size - k + 1;
  const count = positions * positions * 3;
  let total = 0;
  dColor.fill(0);
  for (let ch = 0; ch < 3; ch++) {
    for (let py = 0; py < positions; py++) {
      for (let px = 0; px < positions; px++) {
        let mx = 0;
        let my = 0;
        let xx = 0;
        let yy = 0;
        let xy = 0;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const w = window[a] * window[b];
            const i = ((py + a) * size + (px + b)) * 3 + ch;
            const x = color[i];
            const y = target[i];
            mx += w * x;
            my += w * y;
            xx += w * x * x;
            yy += w * y * y;
            xy += w * x * y;
          }
        }
        const vx = xx - mx * mx;
        const vy = yy - my * my;
        const cxy = xy - mx * my;
        const A1 = 2 * mx * my + SSIM_C1;
        const A2 = 2 * cxy + SSIM_C2;
        const B1 = mx * mx + my * my + SSIM_C1;
        const B2 = vx + vy + SSIM_C2;
        const s = (A1 * A2) / (B1 * B2);
        total += s;
        // d s / d(mu_x, var_x, cov_xy); chained through d mu_x/dx_k = w_k,
        // d var_x/dx_k = 2 w_k (x_k - mu_x), d cov/dx_k = w_k (y_k - mu_y).
        const dMx = (2 * my * A2) / (B1 * B2) - (s * 2 * mx) / B1;
        const dVx = -s / B2;
        const dCxy = (2 * A1) / (B1 * B2);
        const g = -scale / count;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const w = window[a] * window[b];
            const i = ((py + a) * size + (px + b)) * 3 + ch;
            dColor[i] += g * w * (dMx + 2 * (color[i] - mx) * dVx + (target[i] - my) * dCxy);
          }
        }
      }
    }
  }
  return 1 - total / count;
}
