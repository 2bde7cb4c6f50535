/**
 * The head field of head-field.ts split in two halves for fast mode: the density half (grid ->
 * FiLM sigma net, ~2/3 of a sample's multiply-adds) and the colour half (SH ++ geo -> colour
 * net). Fast mode runs the colour half only for samples whose compositing weight can show in
 * the image, so the split is where its savings start. Same maths as headSample, step by step.
 */
import { shDim, type ModelConfig } from '../avatar/config.ts';
import { encodeGrid } from './grid.ts';
import type { HeadScratch } from './head-field.ts';
import { film, linear, relu, sigmoid } from './mlp.ts';
import { shEncode } from './sh.ts';
import { computeFilm, LandmarkConditioner } from './conditioning.ts';
import { morton3D } from './march.ts';
import { ConfigError } from '../errors.ts';
import type { ModelWeights } from './weights.ts';

/** Multiply-adds of each half of one head sample (the weights' layer sizes). */
export function headHalfMacs(cfg: ModelConfig): { sigma: number; colour: number } {
  const h = cfg.head;
  const inDim = h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0);
  const sigma = inDim * h.hiddenDim + h.hiddenDim * h.hiddenDim + h.hiddenDim * (1 + h.geoFeatDim);
  const colour = (shDim(h.shDegree) + h.geoFeatDim + h.individualDim) * h.colorHiddenDim + 3 * h.colorHiddenDim;
  return { sigma, colour };
}

/**
 * How much this frame's conditioning moved a sample's hidden units since another frame's:
 * audio reaches the head field only through FiLM, so max_j |h_j * db_j + da_j| over both
 * conditioned layers (h before FiLM, d = this frame's FiLM vector less the other's) is zero
 * where speech cannot change the field and large where it does.
 */
export interface FilmDelta {
  d1: Float32Array;
  d2: Float32Array;
  /** Written by headSigma: the sample's sensitivity. */
  value: number;
}

function filmShift(h: Float32Array, H: number, d: Float32Array): number {
  let m = 0;
  for (let j = 0; j < H; j++) {
    const v = Math.abs(h[j] * d[H + j] + d[j]);
    if (v > m) m = v;
  }
  return m;
}

/** sigma = exp(h0) at x in [-1,1]^3; leaves geo in scratch.sigmaOut[1..] for headColour. */
export function headSigma(weights: ModelWeights, film1: Float32Array, film2: Float32Array, eye: number, x: ArrayLike<number>, s: HeadScratch, delta?: FilmDelta): number {
  const h = weights.config.head;
  const H = h.hiddenDim;
  const gridOut = h.grid.levels * h.grid.featuresPerLevel;
  for (let d = 0; d < 3; d++) s.u[d] = Math.fround(x[d] + 1) / 2;
  encodeGrid(weights.headGrid, s.u, s.features, 0);
  if (h.eyeInput) s.features[gridOut] = eye;
  linear(weights.sigma[0], H, s.features.length, s.features, 0, s.h1, 0);
  if (delta) delta.value = filmShift(s.h1, H, delta.d1);
  film(s.h1, 0, H, film1);
  relu(s.h1, 0, H);
  linear(weights.sigma[1], H, H, s.h1, 0, s.h2, 0);
  if (delta) delta.value = Math.max(delta.value, filmShift(s.h2, H, delta.d2));
  film(s.h2, 0, H, film2);
  relu(s.h2, 0, H);
  linear(weights.sigma[2], 1 + h.geoFeatDim, H, s.h2, 0, s.sigmaOut, 0);
  return Math.exp(s.sigmaOut[0]);
}

/** rgb of the sample whose density headSigma computed last with this scratch. */
export function headColour(weights: ModelWeights, dir: ArrayLike<number>, s: HeadScratch, rgb: Float32Array): void {
  const h = weights.config.head;
  const sh = shDim(h.shDegree);
  shEncode(dir, h.shDegree, s.colorIn, 0);
  s.colorIn.set(s.sigmaOut.subarray(1), sh);
  s.colorIn.set(weights.individual, sh + h.geoFeatDim);
  linear(weights.color[0], h.colorHiddenDim, s.colorIn.length, s.colorIn, 0, s.colorHidden, 0);
  relu(s.colorHidden, 0, h.colorHiddenDim);
  linear(weights.color[1], 3, h.colorHiddenDim, s.colorHidden, 0, s.rgb, 0);
  rgb[0] = sigmoid(s.rgb[0]);
  rgb[1] = sigmoid(s.rgb[1]);
  rgb[2] = sigmoid(s.rgb[2]);
}

/** Occupied cells filmScale() samples at most (evenly over the bitfield's cells in x, y, z order). */
const SCALE_CELLS = 256;

/**
 * The size of the head net's FiLM-ed hidden pre-activations: their root mean square over both
 * conditioned layers, at the centres of (up to SCALE_CELLS) occupied grid cells, with the FiLM
 * vectors of an all-zero landmark window (the landmark origin; trained avatars' landmark means lie
 * near it, and the figure moves by a few per cent between that and a talking frame's). The FiLM
 * gate (FastModeOptions.filmTolerance) compares each sample's FiLM shift with this, so one
 * tolerance means the same for nets whose pre-activations differ in size: the built-in's are about
 * 4.4, the bench avatar's (official config, random weights) 1.4, where a shift of 3 is already
 * most of a unit's range. Computed once per renderer from the weights alone.
 */
export function filmScale(weights: ModelWeights): number {
  const h = weights.config.head;
  const H = h.hiddenDim;
  const cond = weights.config.condition;
  const numbers = cond.numLandmarks * 3;
  const conditioner = new LandmarkConditioner(weights, { mean: new Float32Array(numbers), std: new Float32Array(numbers).fill(1) });
  const { film1, film2 } = computeFilm(weights, conditioner.code(new Float32Array(cond.window * numbers)));
  const R = weights.config.march.gridResolution;
  const cells: number[] = [];
  for (let x = 0; x < R; x++)
    for (let y = 0; y < R; y++)
      for (let z = 0; z < R; z++) {
        const m = morton3D(x, y, z);
        if (weights.bitfield[m >>> 3] & (1 << (m & 7))) cells.push(x, y, z);
      }
  const count = cells.length / 3;
  if (count === 0) throw new ConfigError('fast mode: the head has no occupied cell to measure its FiLM scale on');
  const every = Math.max(1, Math.floor(count / SCALE_CELLS));
  const gridOut = h.grid.levels * h.grid.featuresPerLevel;
  const features = new Float32Array(gridOut + (h.eyeInput ? 1 : 0));
  const u = new Float32Array(3);
  const h1 = new Float32Array(H);
  const h2 = new Float32Array(H);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < count; i += every) {
    for (let d = 0; d < 3; d++) u[d] = Math.fround((cells[i * 3 + d] + 0.5) / R);
    encodeGrid(weights.headGrid, u, features, 0);
    linear(weights.sigma[0], H, features.length, features, 0, h1, 0);
    film(h1, 0, H, film1);
    for (let j = 0; j < H; j++) sum += h1[j] * h1[j];
    relu(h1, 0, H);
    linear(weights.sigma[1], H, H, h1, 0, h2, 0);
    film(h2, 0, H, film2);
    for (let j = 0; j < H; j++) sum += h2[j] * h2[j];
    n += 2 * H;
  }
  const scale = Math.sqrt(sum / n);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ConfigError(`fast mode: the head net's FiLM scale is ${scale}: expected a positive finite number`);
  return scale;
}
