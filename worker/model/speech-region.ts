/**
 * Where speech changes an avatar's picture (issue 14, the CPU fallback's partial frames): while
 * the head pose holds still, only the lips, the jaw and the chin's edge over the neck move with
 * the voice, so fast mode re-renders that part of the image and keeps the rest of the last frame.
 * The part is found from the avatar itself rather than from any landmark convention (a prepared
 * avatar's landmarks live in its own video's space): two renders at one pose, lips closed and
 * open, differ there; the surface points of the pixels that differ (from both renders, so the
 * chin's open and closed outlines are both covered) are kept in world space and projected
 * through each frame's pose, then padded.
 */
import type { CameraConfig } from '../avatar/config.ts';
import { computeFilm, LandmarkConditioner, type FilmVectors } from './conditioning.ts';
import { normaliseClamp, type LandmarkStatistics } from './landmarks.ts';
import type { ModelWeights } from './weights.ts';

/** iBUG-68 lip and chin landmarks that rise (upper lips) and fall (lower lips, chin) as the mouth opens. */
const UPPER = [50, 51, 52, 61, 62, 63];
const LOWER = [56, 57, 58, 65, 66, 67, 8];

/**
 * A landmark frame at the statistics' mean with the lips opened by `open` standard deviations of
 * each lip landmark's height (negative closes them), the chin following: an opening the
 * avatar's conditioning saw in training, whatever its landmark space.
 */
export function openedLips(stats: LandmarkStatistics, open: number): Float32Array {
  const f = Float32Array.from(stats.mean);
  if (f.length !== 204) throw new RangeError(`openedLips: expected 68 x 3 statistics, got ${f.length} values`);
  for (const lm of UPPER) f[lm * 3 + 1] += open * stats.std[lm * 3 + 1];
  for (const lm of LOWER) f[lm * 3 + 1] -= open * stats.std[lm * 3 + 1];
  return f;
}

/** FiLM vectors of a steady closed (-1.5 std) and open (+1.5 std) mouth: the two renders of the speech region. */
export function lipFilms(weights: ModelWeights, stats: LandmarkStatistics): { closed: FilmVectors; open: FilmVectors } {
  const numbers = stats.mean.length;
  const window = weights.config.condition.window;
  const film = (open: number): FilmVectors => {
    const norm = new Float32Array(numbers);
    normaliseClamp(openedLips(stats, open), stats, norm);
    const points = new Float32Array(window * numbers);
    for (let j = 0; j < window; j++) points.set(norm, j * numbers);
    return computeFilm(weights, new LandmarkConditioner(weights, stats).code(points));
  };
  return { closed: film(-1.5), open: film(1.5) };
}

/**
 * World-space points where two renders of a `width`-wide image from one pose differ: the surface
 * points (`surfaces`, 3 floats a pixel, NaN where a render has none) of the largest 8-connected
 * set of pixels whose colour differs by more than `fraction` of the largest difference. A trained
 * avatar's whole outline flickers a little with its conditioning; those thin lines are not the
 * mouth, and their rows are refreshed in turn anyway.
 */
export function changedPoints(a: Float32Array, b: Float32Array, width: number, surfaces: Float32Array[], fraction = 0.25): Float32Array {
  if (a.length !== b.length || a.length % (3 * width) !== 0) throw new RangeError(`changedPoints: images of ${a.length} and ${b.length} values, ${width} pixels wide`);
  const n = a.length / 3;
  const height = n / width;
  const diff = new Float32Array(n);
  let max = 0;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) diff[p] = Math.max(diff[p], Math.abs(a[p * 3 + k] - b[p * 3 + k]));
    if (diff[p] > max) max = diff[p];
  }
  const label = new Int32Array(n).fill(-1);
  let best: number[] = [];
  for (let p = 0; p < n; p++) {
    if (label[p] >= 0 || !(max > 0 && diff[p] > max * fraction)) continue;
    const part = [p];
    label[p] = p;
    for (let i = 0; i < part.length; i++) {
      const r = Math.floor(part[i] / width);
      const c = part[i] % width;
      for (let y = Math.max(0, r - 1); y <= Math.min(height - 1, r + 1); y++) {
        for (let x = Math.max(0, c - 1); x <= Math.min(width - 1, c + 1); x++) {
          const q = y * width + x;
          if (label[q] < 0 && diff[q] > max * fraction) {
            label[q] = p;
            part.push(q);
          }
        }
      }
    }
    if (part.length > best.length) best = part;
  }
  const pts: number[] = [];
  for (const p of best) for (const s of surfaces) if (!Number.isNaN(s[p * 3])) pts.push(s[p * 3], s[p * 3 + 1], s[p * 3 + 2]);
  if (pts.length === 0) throw new RangeError('changedPoints: the two renders do not differ on any surface pixel');
  return Float32Array.from(pts);
}

export interface PixelBox {
  /** First row and column, and one past the last, clamped to the image (empty when r1 <= r0). */
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

/**
 * The image box around `points` seen from `pose` (camera-to-world, row-major; its columns are the
 * camera's axes), grown on every side by `pad` times its larger side plus `padPixels`, clamped.
 */
export function projectedBox(points: Float32Array, pose: Float32Array, camera: CameraConfig, pad: number, padPixels = 0): PixelBox {
  let r0 = Infinity;
  let r1 = -Infinity;
  let c0 = Infinity;
  let c1 = -Infinity;
  for (let i = 0; i < points.length; i += 3) {
    const vx = points[i] - pose[3];
    const vy = points[i + 1] - pose[7];
    const vz = points[i + 2] - pose[11];
    const z = pose[2] * vx + pose[6] * vy + pose[10] * vz;
    if (!(z > 0)) continue;
    const col = (camera.fx * (pose[0] * vx + pose[4] * vy + pose[8] * vz)) / z + camera.cx;
    const row = (camera.fy * (pose[1] * vx + pose[5] * vy + pose[9] * vz)) / z + camera.cy;
    r0 = Math.min(r0, row);
    r1 = Math.max(r1, row);
    c0 = Math.min(c0, col);
    c1 = Math.max(c1, col);
  }
  if (r0 === Infinity) return { r0: 0, c0: 0, r1: 0, c1: 0 };
  const g = pad * Math.max(r1 - r0, c1 - c0) + padPixels;
  return {
    r0: Math.max(0, Math.floor(r0 - g)),
    c0: Math.max(0, Math.floor(c0 - g)),
    r1: Math.min(camera.height, Math.ceil(r1 + g) + 1),
    c1: Math.min(camera.width, Math.ceil(c1 + g) + 1),
  };
}

/** Row-major pixel indices of a box. */
export function boxPixels(b: PixelBox, width: number): number[] {
  const out: number[] = [];
  for (let r = b.r0; r < b.r1; r++) for (let c = b.c0; c < b.c1; c++) out.push(r * width + c);
  return out;
}
