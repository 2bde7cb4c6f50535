/**
 * The head field at one sample (model-spec §5) for training: the forward of
 * worker/model/head-field.ts with its activations kept, and the backward from dL/dsigma and
 * dL/drgb to every head parameter, to the two FiLM vectors and (through the grid) to the table.
 *
 * Density activation: sigma = exp(h0) forward; the backward uses exp(min(h0, 15)), the
 * reference's trunc_exp, so one huge logit cannot blow the step up.
 */
import { shDim } from '../../../worker/avatar/config.ts';
import { encodeGrid } from '../../../worker/model/grid.ts';
import { shEncode } from '../../../worker/model/sh.ts';
import { gridBackward } from './grid-backward.ts';
import { filmBackward, linearBackward, linearForward, reluBackward } from './mlp-backward.ts';
import { maskLevels } from './conditioning.ts';
import type { HeadNet } from './network.ts';

export const TRUNC_EXP_MAX = 15;

/** Working memory of one sample; allocate once per backend. */
export interface HeadSampleCache {
  u: Float32Array;
  features: Float32Array;
  h1pre: Float64Array;
  h1: Float64Array;
  h2pre: Float64Array;
  h2: Float64Array;
  sigmaOut: Float64Array;
  sh: Float32Array;
  colorIn: Float64Array;
  colorHidden: Float64Array;
  /** sigmoid outputs */
  rgb: Float64Array;
  sigma: number;
  // backward scratch
  dFeatures: Float64Array;
  dFeatures32: Float32Array;
  dh1: Float64Array;
  dh2: Float64Array;
  dSigmaOut: Float64Array;
  dColorIn: Float64Array;
  dColorHidden: Float64Array;
  dLogits: Float64Array;
}

export interface HeadGrads {
  headTable: Float32Array;
  sigma: [Float64Array, Float64Array, Float64Array];
  color: [Float64Array, Float64Array];
  individual: Float64Array;
  /** dL/d film vectors of the frame, summed over samples */
  film: [Float64Array, Float64Array];
}

function inputDim(net: HeadNet): number {
  const h = net.config.head;
  return h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0);
}

export function createHeadSampleCache(net: HeadNet): HeadSampleCache {
  const h = net.config.head;
  const H = h.hiddenDim;
  const inDim = inputDim(net);
  const cin = shDim(h.shDegree) + h.geoFeatDim + h.individualDim;
  return {
    u: new Float32Array(3),
    features: new Float32Array(inDim),
    h1pre: new Float64Array(H),
    h1: new Float64Array(H),
    h2pre: new Float64Array(H),
    h2: new Float64Array(H),
    sigmaOut: new Float64Array(1 + h.geoFeatDim),
    sh: new Float32Array(shDim(h.shDegree)),
    colorIn: new Float64Array(cin),
    colorHidden: new Float64Array(h.colorHiddenDim),
    rgb: new Float64Array(3),
    sigma: 0,
    dFeatures: new Float64Array(inDim),
    dFeatures32: new Float32Array(inDim),
    dh1: new Float64Array(H),
    dh2: new Float64Array(H),
    dSigmaOut: new Float64Array(1 + h.geoFeatDim),
    dColorIn: new Float64Array(cin),
    dColorHidden: new Float64Array(h.colorHiddenDim),
    dLogits: new Float64Array(3),
  };
}

export function createHeadGrads(net: HeadNet): HeadGrads {
  const H = net.config.head.hiddenDim;
  return {
    headTable: new Float32Array(net.headGrid.table.length),
    sigma: [new Float64Array(net.sigma[0].length), new Float64Array(net.sigma[1].length), new Float64Array(net.sigma[2].length)],
    color: [new Float64Array(net.color[0].length), new Float64Array(net.color[1].length)],
    individual: new Float64Array(net.individual.length),
    film: [new Float64Array(2 * H), new Float64Array(2 * H)],
  };
}

/** Forward at x in [-1,1]^3 seen along dir; fills the cache (sigma, rgb and every activation). */
export function headSampleForward(
  net: HeadNet,
  film1: Float64Array,
  film2: Float64Array,
  eye: number,
  activeLevels: number,
  x: ArrayLike<number>,
  dir: ArrayLike<number>,
  s: HeadSampleCache,
): void {
  const h = net.config.head;
  const H = h.hiddenDim;
  const L = h.grid.levels;
  const C = h.grid.featuresPerLevel;
  for (let d = 0; d < 3; d++) s.u[d] = Math.fround(x[d] + 1) / 2;
  encodeGrid(net.headGrid, s.u, s.features, 0);
  maskLevels(s.features, 0, L, C, activeLevels);
  if (h.eyeInput) s.features[L * C] = eye;
  const inDim = s.features.length;

  linearForward(net.sigma[0], H, inDim, s.features, 0, s.h1pre, 0);
  for (let i = 0; i < H; i++) {
    const v = s.h1pre[i] * (1 + film1[H + i]) + film1[i];
    s.h1[i] = v > 0 ? v : 0;
  }
  linearForward(net.sigma[1], H, H, s.h1, 0, s.h2pre, 0);
  for (let i = 0; i < H; i++) {
    const v = s.h2pre[i] * (1 + film2[H + i]) + film2[i];
    s.h2[i] = v > 0 ? v : 0;
  }
  linearForward(net.sigma[2], 1 + h.geoFeatDim, H, s.h2, 0, s.sigmaOut, 0);
  s.sigma = Math.exp(s.sigmaOut[0]);

  const sh = shDim(h.shDegree);
  shEncode(dir, h.shDegree, s.sh, 0);
  for (let i = 0; i < sh; i++) s.colorIn[i] = s.sh[i];
  for (let i = 0; i < h.geoFeatDim; i++) s.colorIn[sh + i] = s.sigmaOut[1 + i];
  for (let i = 0; i < h.individualDim; i++) s.colorIn[sh + h.geoFeatDim + i] = net.individual[i];
  linearForward(net.color[0], h.colorHiddenDim, s.colorIn.length, s.colorIn, 0, s.colorHidden, 0);
  for (let i = 0; i < h.colorHiddenDim; i++) if (s.colorHidden[i] < 0) s.colorHidden[i] = 0;
  linearForward(net.color[1], 3, h.colorHiddenDim, s.colorHidden, 0, s.rgb, 0);
  for (let k = 0; k < 3; k++) s.rgb[k] = 1 / (1 + Math.exp(-s.rgb[k]));
}

/**
 * Backward of the last headSampleForward on this cache, from dL/dsigma and dL/drgb (3):
 * accumulates into grads (weights, individual code, FiLM vectors, head table).
 */
export function headSampleBackward(
  net: HeadNet,
  film1: Float64Array,
  film2: Float64Array,
  activeLevels: number,
  dSigma: number,
  dRgb: ArrayLike<number>,
  s: HeadSampleCache,
  grads: HeadGrads,
): void {
  const h = net.config.head;
  const H = h.hiddenDim;
  const L = h.grid.levels;
  const C = h.grid.featuresPerLevel;
  const cin = s.colorIn.length;
  const sh = shDim(h.shDegree);

  // Colour net: sigmoid -> linear -> ReLU -> linear.
  for (let k = 0; k < 3; k++) s.dLogits[k] = dRgb[k] * s.rgb[k] * (1 - s.rgb[k]);
  s.dColorHidden.fill(0);
  linearBackward(net.color[1], 3, h.colorHiddenDim, s.colorHidden, 0, s.dLogits, 0, grads.color[1], s.dColorHidden, 0);
  reluBackward(s.colorHidden, 0, s.dColorHidden, 0, h.colorHiddenDim);
  s.dColorIn.fill(0);
  linearBackward(net.color[0], h.colorHiddenDim, cin, s.colorIn, 0, s.dColorHidden, 0, grads.color[0], s.dColorIn, 0);
  for (let i = 0; i < h.individualDim; i++) grads.individual[i] += s.dColorIn[sh + h.geoFeatDim + i];

  // Sigma net output: [density logit, geo features]; the SH part has no parameters.
  s.dSigmaOut[0] = dSigma * Math.exp(Math.min(s.sigmaOut[0], TRUNC_EXP_MAX));
  for (let i = 0; i < h.geoFeatDim; i++) s.dSigmaOut[1 + i] = s.dColorIn[sh + i];
  s.dh2.fill(0);
  linearBackward(net.sigma[2], 1 + h.geoFeatDim, H, s.h2, 0, s.dSigmaOut, 0, grads.sigma[2], s.dh2, 0);
  reluBackward(s.h2, 0, s.dh2, 0, H);
  filmBackward(s.h2pre, 0, H, film2, s.dh2, 0, grads.film[1]);
  s.dh1.fill(0);
  linearBackward(net.sigma[1], H, H, s.h1, 0, s.dh2, 0, grads.sigma[1], s.dh1, 0);
  reluBackward(s.h1, 0, s.dh1, 0, H);
  filmBackward(s.h1pre, 0, H, film1, s.dh1, 0, grads.film[0]);
  s.dFeatures.fill(0);
  linearBackward(net.sigma[0], H, s.features.length, s.features, 0, s.dh1, 0, grads.sigma[0], s.dFeatures, 0);

  // The eye value is data, not a parameter: only the grid part goes on.
  for (let i = 0; i < L * C; i++) s.dFeatures32[i] = s.dFeatures[i];
  maskLevels(s.dFeatures32, 0, L, C, activeLevels);
  gridBackward(net.headGrid, s.u, s.dFeatures32, 0, grads.headTable);
}
