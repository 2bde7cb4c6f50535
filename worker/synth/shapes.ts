/** Small geometric helpers for the synthetic renderer: ray/ellipsoid, polygons, polylines, value noise. */
import type { Ellipsoid } from './face.ts';

export interface Hit {
  t: number;
  /** Outward unit normal at the hit, in the frame of the shape. */
  n: [number, number, number];
  p: [number, number, number];
}

/** Nearest intersection with t > 0.001 of the ray o + t d with an ellipsoid, or null. */
export function hitEllipsoid(e: Ellipsoid, o: ArrayLike<number>, d: ArrayLike<number>, far = true): Hit | null {
  const ox = (o[0] - e.c[0]) / e.r[0];
  const oy = (o[1] - e.c[1]) / e.r[1];
  const oz = (o[2] - e.c[2]) / e.r[2];
  const dx = d[0] / e.r[0];
  const dy = d[1] / e.r[1];
  const dz = d[2] / e.r[2];
  const a = dx * dx + dy * dy + dz * dz;
  const b = ox * dx + oy * dy + oz * dz;
  const c = ox * ox + oy * oy + oz * oz - 1;
  const disc = b * b - a * c;
  if (disc < 0) return null;
  const s = Math.sqrt(disc);
  let t = (-b - s) / a;
  if (t <= 0.001) {
    if (!far) return null;
    t = (-b + s) / a;
    if (t <= 0.001) return null;
  }
  const p: [number, number, number] = [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
  const nx = (p[0] - e.c[0]) / (e.r[0] * e.r[0]);
  const ny = (p[1] - e.c[1]) / (e.r[1] * e.r[1]);
  const nz = (p[2] - e.c[2]) / (e.r[2] * e.r[2]);
  const len = Math.hypot(nx, ny, nz);
  return { t, p, n: [nx / len, ny / len, nz / len] };
}

/** Even-odd point-in-polygon test; `poly` is [x0, y0, x1, y1, ...]. */
export function insidePolygon(poly: ArrayLike<number>, x: number, y: number): boolean {
  let inside = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[i * 2];
    const yi = poly[i * 2 + 1];
    const xj = poly[j * 2];
    const yj = poly[j * 2 + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from (x, y) to an open polyline [x0, y0, x1, y1, ...], and the arc position (0..1) of the nearest point. */
export function polylineDistance(line: ArrayLike<number>, x: number, y: number): { d: number; s: number } {
  let best = Infinity;
  let bestS = 0;
  const n = line.length / 2;
  for (let i = 0; i + 1 < n; i++) {
    const ax = line[i * 2];
    const ay = line[i * 2 + 1];
    const bx = line[i * 2 + 2];
    const by = line[i * 2 + 3];
    const vx = bx - ax;
    const vy = by - ay;
    const len2 = vx * vx + vy * vy;
    const u = len2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / len2)) : 0;
    const d = Math.hypot(x - ax - u * vx, y - ay - u * vy);
    if (d < best) {
      best = d;
      bestS = (i + u) / (n - 1);
    }
  }
  return { d: best, s: bestS };
}

/** y of a polyline at x (linear between its vertices, clamped at its ends); vertices need not be sorted. */
export function polylineYAt(line: ArrayLike<number>, x: number): number {
  const n = line.length / 2;
  for (let i = 0; i + 1 < n; i++) {
    const ax = line[i * 2];
    const bx = line[i * 2 + 2];
    if ((x >= ax && x <= bx) || (x >= bx && x <= ax)) {
      const u = bx === ax ? 0 : (x - ax) / (bx - ax);
      return line[i * 2 + 1] + u * (line[i * 2 + 3] - line[i * 2 + 1]);
    }
  }
  return Math.abs(x - line[0]) < Math.abs(x - line[(n - 1) * 2]) ? line[1] : line[(n - 1) * 2 + 1];
}

function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(seed, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) & 0xffffff) / 0x1000000;
}

/** Smooth value noise in [0, 1] on a unit lattice. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, seed);
  const b = hash2(ix + 1, iy, seed);
  const c = hash2(ix, iy + 1, seed);
  const d = hash2(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}
