/**
 * Online (causal, streaming) mean/variance normalisation of log-mel frames, so that a fixed
 * channel gain or spectral tilt (another microphone, a telephone line, a louder speaker) stops
 * mattering after a few seconds instead of shifting every feature the generator reads.
 *
 * Per band, a running mean and variance start at a prior (the training corpus's statistics)
 * that counts as `priorSeconds` of audio; each frame with sound (band-average log-mel above
 * `gate`) updates them with weight max(1/(n + prior frames), 1/(tau frames)): a cumulative
 * average while little has been heard, an exponential one with time constant `tau` after.
 * Digital silence and near-silence do not update them, so a pause does not make the next word
 * huge. The frame is normalised with the statistics including itself.
 *
 * Quiet floor (optional `quietFloor`, in standard deviations): a frame at or below the gate is
 * normalised no lower than `quietFloor` running standard deviations below the running mean, band
 * by band. Without it, silence after loud speech reads far lower than the same silence before it
 * (the statistics have moved up to the speech; a background quieter than the gate never pulls
 * them back), so how deep a pause looks would depend on how loud the speech around it was and
 * how quiet the room is, not on whether anyone speaks. With it, every background below the floor
 * looks alike, before the speech and after it. Frames above the gate are never bounded.
 *
 * State is float64 and frames are processed in order, so any chunking gives bit-identical
 * output (the live stream and the offline path share this object).
 */
import { ConfigError } from '../errors.ts';
import { MEL } from './mel.ts';

export interface OnlineMvnSpec {
  kind: 'online-mvn';
  /** time constant in seconds of the exponential statistics */
  tau: number;
  /** seconds of audio the prior counts as */
  priorSeconds: number;
  /** frames whose band-average log-mel is at or below this do not update the statistics */
  gate: number;
  /** [80] prior mean */
  mean: number[];
  /** [80] prior standard deviation (> 0) */
  std: number[];
  /**
   * frames at or below the gate are normalised no lower than this many running standard
   * deviations below the running mean, per band (absent: unbounded, as before this option)
   */
  quietFloor?: number;
}

/** What a generator expects in front of its own featMean/featScale: nothing, or online MVN. */
export type FeatureNorm = { kind: 'none' } | OnlineMvnSpec;

export const FEATURE_NORM_NONE: FeatureNorm = { kind: 'none' };

/** Band-average gate: about 40 dB above digital silence (ln 1e-6 = -13.8). */
export const DEFAULT_GATE = -9;

/** Variance floor, in squared nats, so a band that never changes cannot blow up. */
const VAR_FLOOR = 1e-2;

export function validateFeatureNorm(n: unknown, field = 'featureNorm'): FeatureNorm {
  const fail = (sub: string, msg: string): never => {
    throw new ConfigError(`${field}${sub}: ${msg}`);
  };
  if (typeof n !== 'object' || n === null) return fail('', 'expected an object');
  const o = n as Record<string, unknown>;
  if (o.kind === 'none') return FEATURE_NORM_NONE;
  if (o.kind !== 'online-mvn') return fail('.kind', `expected "none" or "online-mvn", got ${JSON.stringify(o.kind)}`);
  const num = (k: string, lo: number, hi: number): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(`.${k}`, `expected a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const arr = (k: string, positive: boolean): number[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== MEL.bins) return fail(`.${k}`, `expected ${MEL.bins} numbers`);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || (positive && !(x > 0))) fail(`.${k}[${i}]`, `expected a finite${positive ? ' positive' : ''} number, got ${JSON.stringify(x)}`);
    });
    return v.slice() as number[];
  };
  const spec: OnlineMvnSpec = {
    kind: 'online-mvn',
    tau: num('tau', 0.1, 600),
    priorSeconds: num('priorSeconds', 0, 600),
    gate: num('gate', -50, 50),
    mean: arr('mean', false),
    std: arr('std', true),
  };
  if (o.quietFloor !== undefined) spec.quietFloor = num('quietFloor', 0.1, 20);
  return spec;
}

/** Prior statistics of sounding frames ([n][80] log-mel), for `OnlineMvnSpec.mean/std`. */
export function priorFromFrames(mel: Float32Array, gate = DEFAULT_GATE): { mean: number[]; std: number[] } {
  const B = MEL.bins;
  const sum = new Float64Array(B);
  const sq = new Float64Array(B);
  let n = 0;
  for (let t = 0; t * B < mel.length; t++) {
    const row = mel.subarray(t * B, (t + 1) * B);
    if (bandAverage(row) <= gate) continue;
    n++;
    for (let c = 0; c < B; c++) {
      sum[c] += row[c];
      sq[c] += row[c] * row[c];
    }
  }
  if (n === 0) throw new ConfigError('featureNorm.prior: no frame above the gate (all silence?)');
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(VAR_FLOOR, s / n - mean[c] * mean[c])));
  return { mean, std };
}

function bandAverage(row: Float32Array): number {
  let s = 0;
  for (let c = 0; c < row.length; c++) s += row[c];
  return s / row.length;
}

export class OnlineMvn {
  private readonly mean = new Float64Array(MEL.bins);
  private readonly variance = new Float64Array(MEL.bins);
  private readonly priorFrames: number;
  private readonly minWeight: number;
  private readonly floor: number;
  private heard = 0;

  constructor(readonly spec: OnlineMvnSpec) {
    validateFeatureNorm(spec);
    for (let c = 0; c < MEL.bins; c++) {
      this.mean[c] = spec.mean[c];
      this.variance[c] = spec.std[c] * spec.std[c];
    }
    this.priorFrames = spec.priorSeconds * MEL.rate;
    this.minWeight = 1 / (spec.tau * MEL.rate);
    this.floor = spec.quietFloor === undefined ? Number.NEGATIVE_INFINITY : -spec.quietFloor;
  }

  /** Normalises [n][80] frames in order; returns a new array. */
  push(mel: Float32Array): Float32Array {
    const B = MEL.bins;
    const out = new Float32Array(mel.length);
    for (let t = 0; t * B < mel.length; t++) {
      const row = mel.subarray(t * B, (t + 1) * B);
      const sounding = bandAverage(row) > this.spec.gate;
      if (sounding) {
        this.heard++;
        const w = Math.max(1 / (this.heard + this.priorFrames), this.minWeight);
        for (let c = 0; c < B; c++) {
          const d = row[c] - this.mean[c];
          this.mean[c] += w * d;
          // West's weighted update: the variance about the new mean.
          this.variance[c] = (1 - w) * (this.variance[c] + w * d * d);
        }
      }
      const lowest = sounding ? Number.NEGATIVE_INFINITY : this.floor;
      for (let c = 0; c < B; c++) out[t * B + c] = Math.max(lowest, (row[c] - this.mean[c]) / Math.sqrt(Math.max(VAR_FLOOR, this.variance[c])));
    }
    return out;
  }
}

/** A stateful normaliser for `norm`, or null when the features pass unchanged. */
export function makeNormaliser(norm: FeatureNorm | undefined): OnlineMvn | null {
  return norm && norm.kind === 'online-mvn' ? new OnlineMvn(norm) : null;
}
