/**
 * Moving a person's landmark track into another avatar's landmark space, number by number:
 *
 *   y = to.mean + (x - from.mean) / from.std * to.std
 *
 * Why: the NeRF's condition grid encodes the landmarks' absolute values (conditioning.ts), so a
 * head field trained on one subject (a prior, `r2talker train --prior`) only answers landmarks
 * that fall where that subject's did. A take prepared from a webcam has other statistics than
 * the built-in avatar's synthetic subject (mouth std 0.21 against 0.02, means up to 0.8 apart):
 * unmapped, its landmarks land in grid cells the prior never trained. Mapped, the person's
 * typical mouth opening is the prior's typical mouth opening, and the prior's mouth carries over.
 *
 * An avatar trained this way stores `from` as the tensors landmark_source_mean/std; its
 * landmarkStats are the mapped track's (the `to` side). Anything trained on the person's own
 * track for that avatar (the person-specific generator) goes through the same map before it is
 * embedded (mapGenerator), so playback needs to know nothing of it.
 *
 * A number that never moves in the person's track (std at or below LANDMARK_STD_FLOOR) is
 * pinned: it maps to to.mean whatever its value.
 */
import type { Avatar } from '../avatar/types.ts';
import { FormatError } from '../errors.ts';
import type { LandmarkGenerator } from '../landmarks/model.ts';
import type { LandmarkStatistics } from './landmarks.ts';

/** The smallest std the .r2t stores (landmark_std must be > 0): a number that never moved. */
export const LANDMARK_STD_FLOOR = 1e-6;
export const LANDMARK_SOURCE_MEAN = 'landmark_source_mean';
export const LANDMARK_SOURCE_STD = 'landmark_source_std';

export interface LandmarkMap {
  /** the person's own per-number statistics */
  from: LandmarkStatistics;
  /** the statistics of the space the track is moved into */
  to: LandmarkStatistics;
}

function checkStats(s: LandmarkStatistics | undefined, field: string, numbers: number | null): number {
  if (!s || !(s.mean instanceof Float32Array) || !(s.std instanceof Float32Array)) throw FormatError.input(field, 'expected { mean: Float32Array, std: Float32Array }');
  const n = numbers ?? s.mean.length;
  if (n < 1 || s.mean.length !== n || s.std.length !== n) throw FormatError.expected('INPUT_FORMAT', field, `mean and std of ${n} values`, `${s.mean.length} and ${s.std.length}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(s.mean[i])) throw FormatError.input(`${field}.mean[${i}]`, `expected a finite number, got ${s.mean[i]}`);
    if (!(s.std[i] > 0) || !Number.isFinite(s.std[i])) throw FormatError.input(`${field}.std[${i}]`, `expected a finite number > 0, got ${s.std[i]}`);
  }
  return n;
}

/** Throws naming the first malformed value: both sides of `numbers` finite means and stds > 0. */
export function checkLandmarkMap(map: LandmarkMap, field = 'landmarkMap', numbers: number | null = null): void {
  if (!map || typeof map !== 'object') throw FormatError.input(field, 'expected { from, to } landmark statistics');
  const n = checkStats(map.from, `${field}.from`, numbers);
  checkStats(map.to, `${field}.to`, n);
}

/** The map from `from` to `to`; a std of `from` below the floor is stored at the floor (pinned). */
export function landmarkMap(from: LandmarkStatistics, to: LandmarkStatistics, field = 'landmarkMap'): LandmarkMap {
  const floored = { mean: from.mean.slice(), std: Float32Array.from(from.std, (v) => (v > LANDMARK_STD_FLOOR ? v : LANDMARK_STD_FLOOR)) };
  const map = { from: floored, to: { mean: to.mean.slice(), std: to.std.slice() } };
  checkLandmarkMap(map, field);
  return map;
}

/** Per number: the factor the map multiplies a deviation from the mean by (0 for a pinned number). */
function scales(map: LandmarkMap): Float64Array {
  const n = map.from.std.length;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = map.from.std[i] > LANDMARK_STD_FLOOR ? map.to.std[i] / map.from.std[i] : 0;
  return s;
}

function checkValues(values: Float32Array, n: number, out: Float32Array): void {
  if (!(values instanceof Float32Array) || values.length % n !== 0) throw FormatError.expected('INPUT_FORMAT', 'landmarks', `a multiple of ${n} float32 values`, String(values?.length));
  if (out.length !== values.length) throw FormatError.expected('INPUT_FORMAT', 'landmarks.out', `${values.length} values`, String(out.length));
}

/** Frames of the person's landmarks (any number of rows of from.mean.length) into the `to` space. */
export function mapLandmarks(values: Float32Array, map: LandmarkMap, out = new Float32Array(values.length)): Float32Array {
  const n = map.from.mean.length;
  checkValues(values, n, out);
  const s = scales(map);
  for (let i = 0; i < values.length; i++) {
    const d = i % n;
    out[i] = map.to.mean[d] + (values[i] - map.from.mean[d]) * s[d];
  }
  return out;
}

/** The inverse of mapLandmarks (a pinned number comes back as the person's mean). */
export function unmapLandmarks(values: Float32Array, map: LandmarkMap, out = new Float32Array(values.length)): Float32Array {
  const n = map.from.mean.length;
  checkValues(values, n, out);
  const s = scales(map);
  for (let i = 0; i < values.length; i++) {
    const d = i % n;
    out[i] = s[d] > 0 ? map.from.mean[d] + (values[i] - map.to.mean[d]) / s[d] : map.from.mean[d];
  }
  return out;
}

/**
 * A generator trained on the person's own track, whose output then lands in the `to` space: the
 * map is affine per number, so it folds into the output layer's de-normalisation
 * (y = z * outScale + outMean) and the generator runs as before.
 */
export function mapGenerator(g: LandmarkGenerator, map: LandmarkMap): LandmarkGenerator {
  const n = g.outMean.length;
  checkLandmarkMap(map, 'landmarkMap', n);
  const s = scales(map);
  const outMean = new Float32Array(n);
  const outScale = new Float32Array(n);
  for (let d = 0; d < n; d++) {
    outMean[d] = map.to.mean[d] + (g.outMean[d] - map.from.mean[d]) * s[d];
    outScale[d] = g.outScale[d] * s[d];
  }
  return { ...g, outMean, outScale };
}

/**
 * The map an avatar was trained through (its landmark_source_mean/std to its landmarkStats), or
 * null for an avatar trained on its own landmarks. The reader has checked the tensors' layout and
 * values; this checks they go with the avatar's statistics.
 */
export function avatarLandmarkMap(avatar: Avatar): LandmarkMap | null {
  const mean = avatar.tensors.get(LANDMARK_SOURCE_MEAN);
  const std = avatar.tensors.get(LANDMARK_SOURCE_STD);
  if (!mean && !std) return null;
  const field = `${avatar.name}: tensors/${LANDMARK_SOURCE_MEAN}`;
  if (!mean || !std) throw FormatError.avatar(field, `${LANDMARK_SOURCE_MEAN} and ${LANDMARK_SOURCE_STD} come together`);
  if (!avatar.landmarkStats) throw FormatError.avatar(field, 'present but the avatar has no landmark statistics to map to');
  if (mean.dtype !== 'float32' || std.dtype !== 'float32') throw FormatError.avatar(field, 'expected float32');
  const map = { from: { mean: mean.data as Float32Array, std: std.data as Float32Array }, to: { mean: avatar.landmarkStats.mean, std: avatar.landmarkStats.std } };
  try {
    checkLandmarkMap(map, 'landmark source statistics', avatar.landmarkStats.mean.length);
  } catch (e) {
    throw FormatError.avatar(field, (e as Error).message, e);
  }
  return map;
}
