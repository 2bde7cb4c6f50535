/**
 * Landmark conditioning inputs (model-spec §2, §7b.4): per-number statistics, the
 * normalise-clamp-denormalise regularisation, and the zero-padded frame window.
 */
import { FormatError } from '../errors.ts';

export interface LandmarkStatistics {
  mean: Float32Array;
  std: Float32Array;
}

/** Clamp widths in sigmas (the reference's lm3d_clamp_std = 2.3, halved for brow/eye x,y). */
export const CLAMP_STD = 2.3;
export const CLAMP_STD_BROW_EYE_XY = CLAMP_STD / 2;

/** Clamp width in sigmas of landmark k (68-point layout), axis 0..2. */
export function clampLimit(landmark: number, axis: number): number {
  const browOrEye = (landmark >= 17 && landmark <= 26) || (landmark >= 36 && landmark <= 47);
  return browOrEye && axis < 2 ? CLAMP_STD_BROW_EYE_XY : CLAMP_STD;
}

function checkTrack(track: Float32Array, frames: number, numbers: number): void {
  if (!Number.isInteger(numbers) || numbers < 1) throw FormatError.input('landmarks.numbers', `expected a positive integer, got ${numbers}`);
  if (!Number.isInteger(frames) || frames < 1) throw FormatError.input('landmarks.frames', `expected a positive integer, got ${frames}`);
  if (!(track instanceof Float32Array) || track.length !== frames * numbers) {
    throw FormatError.expected('INPUT_FORMAT', 'landmarks', `${frames * numbers} float32 values (${frames} frames x ${numbers})`, String(track?.length));
  }
}

/** Per-number mean and unbiased (n-1) std over all frames, as torch's mean/std(axis=0). */
export function landmarkStatistics(track: Float32Array, frames: number, numbers: number): LandmarkStatistics {
  checkTrack(track, frames, numbers);
  if (frames < 2) throw FormatError.input('landmarks.frames', `expected at least 2 frames for an unbiased std, got ${frames}`);
  const mean = new Float32Array(numbers);
  const std = new Float32Array(numbers);
  for (let j = 0; j < numbers; j++) {
    let s = 0;
    for (let f = 0; f < frames; f++) s += track[f * numbers + j];
    const m = s / frames;
    let v = 0;
    for (let f = 0; f < frames; f++) {
      const d = track[f * numbers + j] - m;
      v += d * d;
    }
    mean[j] = m;
    std[j] = Math.sqrt(v / (frames - 1));
  }
  return { mean, std };
}

function checkStats(stats: LandmarkStatistics, numbers: number): void {
  if (!stats || !(stats.mean instanceof Float32Array) || !(stats.std instanceof Float32Array)) {
    throw FormatError.input('landmarkStats', 'expected { mean: Float32Array, std: Float32Array }');
  }
  if (stats.mean.length !== numbers || stats.std.length !== numbers) {
    throw FormatError.expected('INPUT_FORMAT', 'landmarkStats', `mean and std of ${numbers} values`, `${stats.mean.length} and ${stats.std.length}`);
  }
}

/**
 * out = clamp((x - mean)/std, -k, k)*std + mean per number, k by landmark group and axis (§2).
 * Float32 steps as torch does them. Where std is 0 (or not finite) the reference would
 * produce NaN; the value passes through unchanged instead.
 */
export function normaliseClamp(frame: Float32Array, stats: LandmarkStatistics, out: Float32Array): void {
  const n = frame.length;
  if (n % 3 !== 0) throw FormatError.input('landmarks.frame', `expected a multiple of 3 values, got ${n}`);
  checkStats(stats, n);
  if (out.length !== n) throw FormatError.expected('INPUT_FORMAT', 'landmarks.out', `${n} values`, String(out.length));
  for (let i = 0; i < n; i++) {
    const x = frame[i];
    const m = stats.mean[i];
    const s = stats.std[i];
    if (!(s > 0) || !Number.isFinite(s)) {
      out[i] = x;
      continue;
    }
    const k = clampLimit(Math.floor(i / 3), i % 3);
    let z = Math.fround(Math.fround(x - m) / s);
    if (z < -k) z = Math.fround(-k);
    else if (z > k) z = Math.fround(k);
    out[i] = Math.fround(z * s) + m;
  }
}

/** normaliseClamp over every frame of a track; returns a new array. */
export function normaliseClampTrack(track: Float32Array, frames: number, numbers: number, stats: LandmarkStatistics): Float32Array {
  checkTrack(track, frames, numbers);
  const out = new Float32Array(track.length);
  for (let f = 0; f < frames; f++) {
    normaliseClamp(track.subarray(f * numbers, (f + 1) * numbers), stats, out.subarray(f * numbers, (f + 1) * numbers));
  }
  return out;
}

/**
 * Frames t - w//2 .. t + w//2 of the track (original frame index) into out, frames outside
 * the sequence as zeros (§7b.4). Values per frame = track.length / frames.
 */
export function windowPoints(track: Float32Array, frames: number, t: number, window: number, out: Float32Array): void {
  if (!Number.isInteger(frames) || frames < 1 || track.length % frames !== 0) {
    throw FormatError.input('landmarks.frames', `expected a positive divisor of ${track.length}, got ${frames}`);
  }
  if (!Number.isInteger(window) || window < 1 || window % 2 !== 1) throw FormatError.input('landmarks.window', `expected a positive odd integer, got ${window}`);
  if (!Number.isInteger(t) || t < 0 || t >= frames) throw FormatError.input('landmarks.t', `expected an integer in [0, ${frames - 1}], got ${t}`);
  const numbers = track.length / frames;
  if (out.length !== window * numbers) throw FormatError.expected('INPUT_FORMAT', 'landmarks.window.out', `${window * numbers} values`, String(out.length));
  const half = (window - 1) / 2;
  for (let j = 0; j < window; j++) {
    const f = t - half + j;
    const dst = j * numbers;
    if (f < 0 || f >= frames) out.fill(0, dst, dst + numbers);
    else out.set(track.subarray(f * numbers, (f + 1) * numbers), dst);
  }
}
