/**
 * The head field at one sample (model-spec §5): grid features (+ eye) -> FiLM-conditioned
 * sigma net -> sigma = exp(h0), geo; SH(dir) ++ geo ++ individual code -> colour net -> sigmoid.
 */
import { shDim } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { encodeGrid } from './grid.ts';
import { film, linear, relu, sigmoid } from './mlp.ts';
import { shEncode } from './sh.ts';
import { simdFor } from './simd-mlp.ts';
import type { ModelWeights } from './weights.ts';

/** Per-sample working memory, allocated once per renderer. */
export interface HeadScratch {
  u: Float32Array;
  features: Float32Array;
  h1: Float32Array;
  h2: Float32Array;
  sigmaOut: Float32Array;
  colorIn: Float32Array;
  colorHidden: Float32Array;
  rgb: Float32Array;
}

/**
 * Scratch for one renderer. Where enableSimd() gave the weights a kernel (simd-mlp.ts), the
 * vectors live in its memory so that the layers run there (same values as the TS loop).
 */
/** Lengths of a head scratch's vectors. */
export function headScratchLengths(weights: ModelWeights): Record<keyof HeadScratch, number> {
  const h = weights.config.head;
  const gridOut = h.grid.levels * h.grid.featuresPerLevel;
  return {
    u: 3,
    features: gridOut + (h.eyeInput ? 1 : 0),
    h1: h.hiddenDim,
    h2: h.hiddenDim,
    sigmaOut: 1 + h.geoFeatDim,
    colorIn: shDim(h.shDegree) + h.geoFeatDim + h.individualDim,
    colorHidden: h.colorHiddenDim,
    rgb: 3,
  };
}

/**
 * Scratch for one renderer. Where enableSimd() gave the weights a kernel (simd-mlp.ts), the
 * vectors live in its memory so that the layers run there (same values as the TS loop).
 */
export function createHeadScratch(weights: ModelWeights): HeadScratch {
  const kernel = simdFor(weights);
  const lengths = headScratchLengths(weights);
  const names = Object.keys(lengths) as (keyof HeadScratch)[];
  const inKernel = kernel ? names.map((k) => kernel.vector(lengths[k])) : [];
  const shared = kernel !== null && inKernel.every((v) => v !== null);
  const s = {} as HeadScratch;
  names.forEach((k, i) => (s[k] = shared ? inKernel[i]! : new Float32Array(lengths[k])));
  return s;
}

export function checkFilm(weights: ModelWeights, film1: Float32Array, film2: Float32Array): void {
  const n = 2 * weights.config.head.hiddenDim;
  if (!(film1 instanceof Float32Array) || film1.length !== n) throw new ConfigError(`frame.film1: expected ${n} float32 values, got ${film1?.length}`);
  if (!(film2 instanceof Float32Array) || film2.length !== n) throw new ConfigError(`frame.film2: expected ${n} float32 values, got ${film2?.length}`);
}

/**
 * Writes out[0] = sigma, out[1..3] = rgb for sample x (in [-1,1]^3) seen along dir.
 * The eye value is used only when the config has an eye input.
 */
export function headSample(
  weights: ModelWeights,
  film1: Float32Array,
  film2: Float32Array,
  eye: number,
  x: ArrayLike<number>,
  dir: ArrayLike<number>,
  scratch: HeadScratch,
  out: Float32Array,
): void {
  const h = weights.config.head;
  const H = h.hiddenDim;
  const gridOut = h.grid.levels * h.grid.featuresPerLevel;
  const s = scratch;
  for (let d = 0; d < 3; d++) s.u[d] = Math.fround(x[d] + 1) / 2;
  encodeGrid(weights.headGrid, s.u, s.features, 0);
  if (h.eyeInput) s.features[gridOut] = eye;
  const inDim = s.features.length;

  linear(weights.sigma[0], H, inDim, s.features, 0, s.h1, 0);
  film(s.h1, 0, H, film1);
  relu(s.h1, 0, H);
  linear(weights.sigma[1], H, H, s.h1, 0, s.h2, 0);
  film(s.h2, 0, H, film2);
  relu(s.h2, 0, H);
  linear(weights.sigma[2], 1 + h.geoFeatDim, H, s.h2, 0, s.sigmaOut, 0);
  out[0] = Math.exp(s.sigmaOut[0]);

  const sh = shDim(h.shDegree);
  shEncode(dir, h.shDegree, s.colorIn, 0);
  s.colorIn.set(s.sigmaOut.subarray(1), sh);
  s.colorIn.set(weights.individual, sh + h.geoFeatDim);
  linear(weights.color[0], h.colorHiddenDim, s.colorIn.length, s.colorIn, 0, s.colorHidden, 0);
  relu(s.colorHidden, 0, h.colorHiddenDim);
  linear(weights.color[1], 3, h.colorHiddenDim, s.colorHidden, 0, s.rgb, 0);
  out[1] = sigmoid(s.rgb[0]);
  out[2] = sigmoid(s.rgb[1]);
  out[3] = sigmoid(s.rgb[2]);
}
