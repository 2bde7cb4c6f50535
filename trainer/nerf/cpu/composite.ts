/**
 * Volume compositing of one training ray (the reference's composite_rays_train): front to
 * back, alpha_i = 1 - exp(-sigma_i dt_i), w_i = alpha_i T_i with T the running product of
 * (1 - alpha); rgb = sum w_i c_i, weightSum = sum w_i. A ray stops once T falls below the
 * threshold (the sample that crossed it counts). The background blend rgb + (1 - weightSum) bg
 * is the loop's (trainer/nerf/losses.ts), so this file has no background.
 *
 * Backward, with S_i = sum_{j>i} w_j c_j the colour still to come after sample i and T_{i+1}
 * the transmittance after it:
 *   dL/dc_i     = w_i dL/drgb
 *   dL/dsigma_i = dt_i [ dL/drgb . (T_{i+1} c_i - S_i) + dL/dweightSum (1 - weightSum) ]
 * because raising sigma_i adds dt_i T_{i+1} to w_i and scales every later weight by
 * exp(-sigma_i dt_i).
 */

export interface CompositeResult {
  /** samples that contributed (the rest were cut off by the transmittance threshold) */
  used: number;
  r: number;
  g: number;
  b: number;
  weightSum: number;
}

/** sigma[i], rgb[3i..3i+2], dt[i] for i < n; returns the composited colour and weight sum. */
export function compositeForward(sigma: ArrayLike<number>, rgb: ArrayLike<number>, dt: ArrayLike<number>, n: number, tThreshold: number, out: CompositeResult): void {
  let T = 1;
  let r = 0;
  let g = 0;
  let b = 0;
  let ws = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const alpha = 1 - Math.exp(-sigma[i] * dt[i]);
    const w = alpha * T;
    r += w * rgb[3 * i];
    g += w * rgb[3 * i + 1];
    b += w * rgb[3 * i + 2];
    ws += w;
    T *= 1 - alpha;
    used++;
    if (T < tThreshold) break;
  }
  out.used = used;
  out.r = r;
  out.g = g;
  out.b = b;
  out.weightSum = ws;
}

/**
 * Gradients of the first `used` samples from dL/drgb (3) and dL/dweightSum of the ray, given
 * the forward's result. Writes dSigma[i] and dRgb[3i..3i+2].
 */
export function compositeBackward(
  sigma: ArrayLike<number>,
  rgb: ArrayLike<number>,
  dt: ArrayLike<number>,
  result: CompositeResult,
  dOut: ArrayLike<number>,
  dWeightSum: number,
  dSigma: Float64Array,
  dRgb: Float64Array,
): void {
  let T = 1;
  let r = 0;
  let g = 0;
  let b = 0;
  const wsTerm = dWeightSum * (1 - result.weightSum);
  for (let i = 0; i < result.used; i++) {
    const alpha = 1 - Math.exp(-sigma[i] * dt[i]);
    const w = alpha * T;
    const cr = rgb[3 * i];
    const cg = rgb[3 * i + 1];
    const cb = rgb[3 * i + 2];
    r += w * cr;
    g += w * cg;
    b += w * cb;
    T *= 1 - alpha;
    dRgb[3 * i] = w * dOut[0];
    dRgb[3 * i + 1] = w * dOut[1];
    dRgb[3 * i + 2] = w * dOut[2];
    // result.r - r is S_i: the colour the samples after i add.
    dSigma[i] = dt[i] * (dOut[0] * (T * cr - (result.r - r)) + dOut[1] * (T * cg - (result.g - g)) + dOut[2] * (T * cb - (result.b - b)) + wsTerm);
  }
}
