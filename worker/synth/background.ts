/** A static room background (wall gradient, a framed picture, a shelf line, soft texture) from a seed, RGB floats in [0,1]. */
import { mulberry32 } from '../util/random.ts';
import { valueNoise } from './shapes.ts';

export function makeBackground(width: number, height: number, seed: number): Float32Array {
  const rand = mulberry32(seed ^ 0xb9);
  const wallTop = [0.62 + 0.2 * rand(), 0.6 + 0.2 * rand(), 0.55 + 0.25 * rand()];
  const wallBottom = wallTop.map((v) => v * (0.7 + 0.15 * rand()));
  const frame = { x0: 0.06 + 0.1 * rand(), y0: 0.12 + 0.1 * rand(), w: 0.18 + 0.08 * rand(), h: 0.22 + 0.1 * rand() };
  const art = [0.2 + 0.6 * rand(), 0.2 + 0.6 * rand(), 0.2 + 0.6 * rand()];
  const shelfY = 0.55 + 0.1 * rand();
  const out = new Float32Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const u = (col + 0.5) / width;
      const v = (row + 0.5) / height;
      let c = wallTop.map((t, k) => t + (wallBottom[k] - t) * v);
      const n = 0.96 + 0.08 * valueNoise(u * 40, v * 40, seed);
      c = c.map((x) => x * n);
      const inFrame = u > frame.x0 && u < frame.x0 + frame.w && v > frame.y0 && v < frame.y0 + frame.h;
      const inArt = u > frame.x0 + 0.02 && u < frame.x0 + frame.w - 0.02 && v > frame.y0 + 0.02 && v < frame.y0 + frame.h - 0.02;
      if (inArt) c = art.map((x, k) => x * (0.8 + 0.4 * valueNoise(u * 12 + k, v * 12, seed + 5)));
      else if (inFrame) c = [0.25, 0.18, 0.12];
      if (Math.abs(v - shelfY) < 0.012 && u > 0.7) c = [0.35, 0.25, 0.17];
      // Vignette.
      const vig = 1 - 0.25 * ((u - 0.5) ** 2 + (v - 0.45) ** 2);
      for (let k = 0; k < 3; k++) out[(row * width + col) * 3 + k] = Math.max(0, Math.min(1, c[k] * vig));
    }
  }
  return out;
}
