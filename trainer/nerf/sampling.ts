/**
 * Which pixels a step trains on, and their rays (model-spec §6, §9). Every draw comes from the
 * loop's Rng, so a resumed run and another backend see the same rays.
 *
 * Head stage: a share of the rays inside the face rectangle (from the frame's .lms), the rest
 * anywhere in the frame, so the face, where the detail is, gets most of the samples while the
 * whole frame keeps the background and weight-sum entropy honest.
 */
import type { CameraConfig, ModelConfig } from '../../worker/avatar/config.ts';
import { nearFar, rayDirection, rayOrigin } from '../../worker/model/rays.ts';
import type { PixelRect } from '../../worker/subject/lms.ts';
import type { TrainRays } from './backend.ts';
import type { Rng } from './rng.ts';

function clampRect(r: PixelRect, width: number, height: number): PixelRect | null {
  const rowMin = Math.max(0, Math.floor(r.rowMin));
  const rowMax = Math.min(height, Math.ceil(r.rowMax));
  const colMin = Math.max(0, Math.floor(r.colMin));
  const colMax = Math.min(width, Math.ceil(r.colMax));
  return rowMax > rowMin && colMax > colMin ? { rowMin, rowMax, colMin, colMax } : null;
}

/** count pixel indices (row * width + col): round(count * fraction) inside rect, the rest uniform. */
export function samplePixels(rng: Rng, width: number, height: number, count: number, rect: PixelRect | null, fraction: number): Uint32Array {
  const out = new Uint32Array(count);
  const r = rect ? clampRect(rect, width, height) : null;
  const inside = r ? Math.round(count * fraction) : 0;
  for (let i = 0; i < count; i++) {
    if (r && i < inside) {
      const row = r.rowMin + rng.int(r.rowMax - r.rowMin);
      const col = r.colMin + rng.int(r.colMax - r.colMin);
      out[i] = row * width + col;
    } else {
      out[i] = rng.int(width * height);
    }
  }
  return out;
}

/**
 * count pixel indices: round(count * fraction) drawn from `pool` (pixel indices, e.g. a mask's
 * pixels), the rest uniform over the frame. An empty pool gives uniform draws only.
 */
export function samplePixelsFromPool(rng: Rng, width: number, height: number, count: number, pool: Uint32Array, fraction: number): Uint32Array {
  const out = new Uint32Array(count);
  const inside = pool.length > 0 ? Math.round(count * fraction) : 0;
  for (let i = 0; i < count; i++) out[i] = i < inside ? pool[rng.int(pool.length)] : rng.int(width * height);
  return out;
}

/**
 * A size x size patch (row-major) covering the rectangle: placed at a random offset when the
 * rectangle is larger, centred on it when smaller, and kept inside the image.
 */
export function patchPixels(rng: Rng, width: number, height: number, size: number, rect: PixelRect): Uint32Array {
  const side = Math.min(size, width, height);
  const place = (lo: number, hi: number, limit: number) => {
    const span = hi - lo;
    let start = span > side ? lo + rng.int(span - side + 1) : Math.round((lo + hi) / 2 - side / 2);
    start = Math.max(0, Math.min(limit - side, start));
    return start;
  };
  const row0 = place(rect.rowMin, rect.rowMax, height);
  const col0 = place(rect.colMin, rect.colMax, width);
  const out = new Uint32Array(side * side);
  for (let a = 0; a < side; a++) for (let b = 0; b < side; b++) out[a * side + b] = (row0 + a) * width + col0 + b;
  return out;
}

/** Rays of the given pixels under a renderer-convention pose, with a jitter draw per ray. */
export function raysForPixels(camera: CameraConfig, config: ModelConfig, pose: Float32Array, pixels: Uint32Array, rng: Rng): TrainRays {
  const n = pixels.length;
  const rays: TrainRays = {
    count: n,
    origins: new Float32Array(n * 3),
    directions: new Float32Array(n * 3),
    nears: new Float32Array(n),
    fars: new Float32Array(n),
    jitter: new Float32Array(n),
  };
  const o = new Float32Array(3);
  const d = new Float32Array(3);
  rayOrigin(pose, o);
  for (let i = 0; i < n; i++) {
    const p = pixels[i];
    const row = Math.floor(p / camera.width);
    const col = p - row * camera.width;
    rayDirection(camera, pose, col, row, d);
    rays.origins.set(o, 3 * i);
    rays.directions.set(d, 3 * i);
    const [near, far] = nearFar(o, d, config.aabb, config.march.minNear);
    rays.nears[i] = near;
    rays.fars[i] = far;
    rays.jitter[i] = rng.next();
  }
  return rays;
}

/** Gathers 3 values per pixel from an H*W*3 image. */
export function gather3(image: Float32Array, pixels: Uint32Array): Float64Array {
  const out = new Float64Array(pixels.length * 3);
  for (let i = 0; i < pixels.length; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = image[3 * pixels[i] + k];
  return out;
}
