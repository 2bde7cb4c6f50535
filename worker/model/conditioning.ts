/**
 * Landmark window -> code c (grid features of every point, lip EMA) -> FiLM vectors
 * (model-spec §3, §5, §7b.5).
 */
import { FormatError } from '../errors.ts';
import { encodeGrid } from './grid.ts';
import { normaliseClamp, type LandmarkStatistics } from './landmarks.ts';
import { linear, relu } from './mlp.ts';
import type { ModelWeights } from './weights.ts';

/** Length of the code c: window * landmarks * levels * features. */
export function codeDim(weights: ModelWeights): number {
  const c = weights.config.condition;
  return c.window * c.numLandmarks * c.grid.levels * c.grid.featuresPerLevel;
}

export class LandmarkConditioner {
  readonly stats: LandmarkStatistics;
  private readonly weights: ModelWeights;
  private readonly raw: Float32Array;
  private readonly smoothed: Float32Array;
  private readonly u = new Float32Array(3);
  private hasPrevious = false;

  constructor(weights: ModelWeights, stats: LandmarkStatistics) {
    const numbers = weights.config.condition.numLandmarks * 3;
    if (!stats || !(stats.mean instanceof Float32Array) || !(stats.std instanceof Float32Array) || stats.mean.length !== numbers || stats.std.length !== numbers) {
      throw FormatError.input('landmarkStats', `expected mean and std Float32Arrays of ${numbers} values`);
    }
    this.weights = weights;
    this.stats = stats;
    this.raw = new Float32Array(codeDim(weights));
    this.smoothed = new Float32Array(codeDim(weights));
  }

  /** Forgets the EMA state: the next code is unsmoothed, as the first frame of a sequence is. */
  reset(): void {
    this.hasPrevious = false;
  }

  /** normaliseClamp with this conditioner's statistics (one frame of numLandmarks*3 values). */
  normalise(frame: Float32Array, out: Float32Array): void {
    normaliseClamp(frame, this.stats, out);
  }

  /**
   * points: window*numLandmarks*3 normalised and clamped values (zero-padded frames included).
   * Each point p is encoded at u = (p+1)/2; the result is frame -> landmark -> level -> channel.
   * Then c <- k*c_prev + (1-k)*c with c_prev the previous smoothed code (none for the first frame).
   * Returns a new array.
   */
  code(points: Float32Array): Float32Array {
    const cond = this.weights.config.condition;
    const count = cond.window * cond.numLandmarks;
    if (!(points instanceof Float32Array) || points.length !== count * 3) {
      throw FormatError.expected('INPUT_FORMAT', 'landmarks.window', `${count * 3} float32 values`, String(points?.length));
    }
    const width = cond.grid.levels * cond.grid.featuresPerLevel;
    const u = this.u;
    for (let p = 0; p < count; p++) {
      for (let d = 0; d < 3; d++) u[d] = Math.fround(points[p * 3 + d] + 1) / 2;
      encodeGrid(this.weights.lmGrid, u, this.raw, p * width);
    }
    const k = cond.lipSmoothing;
    const c = this.smoothed;
    if (this.hasPrevious) {
      for (let i = 0; i < c.length; i++) c[i] = k * c[i] + (1 - k) * this.raw[i];
    } else {
      c.set(this.raw);
      this.hasPrevious = true;
    }
    return c.slice();
  }
}

export interface FilmVectors {
  /** 2*hiddenDim: a = [0, H), b = [H, 2H), used as h <- (W h)*(1+b) + a after sigma layer 0. */
  film1: Float32Array;
  /** The same for sigma layer 1. */
  film2: Float32Array;
}

/** The two conditioning MLPs (in -> hid ReLU -> hid ReLU -> 2H, no biases), once per frame. */
export function computeFilm(weights: ModelWeights, c: Float32Array): FilmVectors {
  const inDim = codeDim(weights);
  if (!(c instanceof Float32Array) || c.length !== inDim) throw FormatError.expected('INPUT_FORMAT', 'code', `${inDim} float32 values`, String(c?.length));
  const hid = weights.config.condition.hiddenDim;
  const out = 2 * weights.config.head.hiddenDim;
  const h1 = new Float32Array(hid);
  const h2 = new Float32Array(hid);
  const run = (mlp: [Float32Array, Float32Array, Float32Array]): Float32Array => {
    linear(mlp[0], hid, inDim, c, 0, h1, 0);
    relu(h1, 0, hid);
    linear(mlp[1], hid, hid, h1, 0, h2, 0);
    relu(h2, 0, hid);
    const g = new Float32Array(out);
    linear(mlp[2], out, hid, h2, 0, g, 0);
    return g;
  };
  return { film1: run(weights.film[0]), film2: run(weights.film[1]) };
}
