/**
 * The generator's quality measures (issue 4), on tracks [T][204] in one landmark space:
 * - lip correlation: Pearson correlation of predicted and true inner-lip opening;
 * - bilabial closure rate: share of given closure frames (m, b, p) where the predicted
 *   opening is below 20% of its range (range = 5th..95th percentile of the track);
 * - silence deviation: largest distance of any point from the rest frame during silence.
 * Opening is the vertical gap between inner-lip points 62 (upper) and 66 (lower): in the
 * offset space the mean shape's gap is a constant, which a correlation ignores.
 */
import { ConfigError } from '../errors.ts';
import { LANDMARK_DIM } from './model.ts';

export const UPPER_INNER_LIP = 62;
export const LOWER_INNER_LIP = 66;

export function lipOpening(landmarks: Float32Array, frames: number): Float32Array {
  if (landmarks.length < frames * LANDMARK_DIM) throw new ConfigError(`quality.landmarks: expected ${frames * LANDMARK_DIM} values, got ${landmarks.length}`);
  const out = new Float32Array(frames);
  for (let t = 0; t < frames; t++) out[t] = landmarks[t * LANDMARK_DIM + UPPER_INNER_LIP * 3 + 1] - landmarks[t * LANDMARK_DIM + LOWER_INNER_LIP * 3 + 1];
  return out;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
}

function percentile(x: Float32Array, q: number): number {
  const s = Float32Array.from(x).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** Share of `closureFrames` whose opening is below `threshold` of the track's range. */
export function closureRate(opening: Float32Array, closureFrames: number[], threshold = 0.2): number {
  if (closureFrames.length === 0) return 1;
  const lo = percentile(opening, 0.05);
  const hi = percentile(opening, 0.95);
  const range = hi - lo;
  let closed = 0;
  for (const t of closureFrames) {
    if (t < 0 || t >= opening.length) throw new ConfigError(`quality.closureFrames: frame ${t} outside 0..${opening.length - 1}`);
    if (range <= 0 || (opening[t] - lo) / range < threshold) closed++;
  }
  return closed / closureFrames.length;
}

/** Largest per-point distance from `rest` [204] over the given frames. */
export function silenceDeviation(landmarks: Float32Array, frames: number[], rest: Float32Array): number {
  let worst = 0;
  for (const t of frames) {
    for (let p = 0; p < LANDMARK_DIM / 3; p++) {
      let d2 = 0;
      for (let c = 0; c < 3; c++) d2 += (landmarks[t * LANDMARK_DIM + p * 3 + c] - rest[p * 3 + c]) ** 2;
      worst = Math.max(worst, Math.sqrt(d2));
    }
  }
  return worst;
}
