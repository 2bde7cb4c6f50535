/**
 * Fast mode's adaptive image sampling: rays are marched on a coarse lattice first; each finer
 * lattice's new pixels are interpolated from their coarser neighbours where those agree (head
 * colour, weight sum, surface depth: no edge, silhouette or depth step between them) and are
 * quiet (no sample the frame's conditioning moved: speech changes the field there, and a mouth
 * opening starts thinner than the lattice), and marched where they do not.
 */
import type { RayBatch } from './march.ts';

/** Per pixel head result: premultiplied rgb, weight sum, surface t (NaN none), FiLM sensitivity. */
export interface PixelState {
  rgb: Float32Array;
  weightSum: Float32Array;
  hitT: Float32Array;
  sensitivity: Float32Array;
}

export interface RefineTolerance {
  colour: number;
  /** in ray-parameter units */
  depth: number;
  film: number;
  /**
   * Second differences along the line through the supports and their outer lattice neighbours:
   * below this the signal is locally linear (smooth shading, a sloping surface) and the
   * midpoint is interpolated even where the supports differ by more than `colour`.
   */
  curvature: number;
}

/** The rays (and evaluation starts) of the listed pixels, in list order. */
export function gatherRays(rays: RayBatch, tStart: Float32Array, list: ArrayLike<number>): { rays: RayBatch; tStart: Float32Array } {
  const n = list.length;
  const out: RayBatch = { count: n, origins: new Float32Array(n * 3), directions: new Float32Array(n * 3), nears: new Float32Array(n), fars: new Float32Array(n) };
  const starts = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const p = list[j];
    for (let k = 0; k < 3; k++) {
      out.origins[j * 3 + k] = rays.origins[p * 3 + k];
      out.directions[j * 3 + k] = rays.directions[p * 3 + k];
    }
    out.nears[j] = rays.nears[p];
    out.fars[j] = rays.fars[p];
    starts[j] = tStart[p];
  }
  return { rays: out, tStart: starts };
}

/** Whether the support pixels agree closely enough to interpolate between them. */
function agree(px: PixelState, sup: number[], tol: RefineTolerance): boolean {
  const a = sup[0];
  for (const p of sup) if (px.sensitivity[p] > tol.film) return false;
  for (let j = 1; j < sup.length; j++) {
    const b = sup[j];
    if (Math.abs(px.weightSum[a] - px.weightSum[b]) > tol.colour) return false;
    for (let k = 0; k < 3; k++) if (Math.abs(px.rgb[a * 3 + k] - px.rgb[b * 3 + k]) > tol.colour) return false;
    const ta = px.hitT[a];
    const tb = px.hitT[b];
    if (Number.isNaN(ta) !== Number.isNaN(tb)) return false;
    if (!Number.isNaN(ta) && Math.abs(ta - tb) > tol.depth) return false;
  }
  return true;
}

/** |a' - 2a + b| and |a - 2b + b'| of every channel, the outer points a2 = a', b2 = b'. */
function linearAlong(px: PixelState, a: number, b: number, a2: number, b2: number, tol: RefineTolerance): boolean {
  const chans: [Float32Array, number, number][] = [
    [px.weightSum, 1, 0],
    [px.rgb, 3, 0],
    [px.rgb, 3, 1],
    [px.rgb, 3, 2],
  ];
  for (const [v, n, k] of chans) {
    const A = v[a * n + k];
    const B = v[b * n + k];
    if (Math.abs(v[a2 * n + k] - 2 * A + B) > tol.curvature || Math.abs(A - 2 * B + v[b2 * n + k]) > tol.curvature) return false;
  }
  const t = [px.hitT[a2], px.hitT[a], px.hitT[b], px.hitT[b2]];
  const none = t.filter(Number.isNaN).length;
  if (none !== 0 && none !== 4) return false;
  if (none === 0 && (Math.abs(t[0] - 2 * t[1] + t[2]) > tol.depth || Math.abs(t[1] - 2 * t[2] + t[3]) > tol.depth)) return false;
  for (const p of [a2, b2]) if (px.sensitivity[p] > tol.film) return false;
  return true;
}

function interpolate(px: PixelState, p: number, sup: number[]): void {
  const k = 1 / sup.length;
  let ws = 0;
  let t = 0;
  let sens = 0;
  const c = [0, 0, 0];
  for (const q of sup) {
    ws += px.weightSum[q];
    t += px.hitT[q];
    sens = Math.max(sens, px.sensitivity[q]);
    for (let j = 0; j < 3; j++) c[j] += px.rgb[q * 3 + j];
  }
  px.weightSum[p] = ws * k;
  px.hitT[p] = t * k; // NaN when the supports have no surface (they agree on that)
  px.sensitivity[p] = sens;
  for (let j = 0; j < 3; j++) px.rgb[p * 3 + j] = c[j] * k;
}

/**
 * Whether the supports lie on locally linear signals: each line through two opposite supports
 * (the pair, or both diagonals of a cell centre) extended by one lattice step either way.
 */
function smooth(px: PixelState, W: number, H: number, sup: [number, number][], tol: RefineTolerance): boolean {
  if (px.sensitivity[sup[0][0] * W + sup[0][1]] > tol.film) return false;
  const pairs = sup.length === 2 ? [[sup[0], sup[1]]] : [[sup[0], sup[3]], [sup[1], sup[2]]];
  for (const [[ya, xa], [yb, xb]] of pairs) {
    const dy = yb - ya;
    const dx = xb - xa;
    const [ya2, xa2, yb2, xb2] = [ya - dy, xa - dx, yb + dy, xb + dx];
    if (ya2 < 0 || ya2 >= H || xa2 < 0 || xa2 >= W || yb2 < 0 || yb2 >= H || xb2 < 0 || xb2 >= W) return false;
    const a = ya * W + xa;
    const b = yb * W + xb;
    if (px.sensitivity[a] > tol.film || px.sensitivity[b] > tol.film) return false;
    if (!linearAlong(px, a, b, ya2 * W + xa2, yb2 * W + xb2, tol)) return false;
  }
  return true;
}

/**
 * From lattice stride s to s/2: each new pixel's supports are its two (edge midpoints) or four
 * (cell centres) neighbours on the stride-s lattice; a pixel missing one (the image border) is
 * marched. `march` fills PixelState for the pixels it is given.
 */
export function refineLevel(px: PixelState, W: number, H: number, s: number, tol: RefineTolerance, march: (list: number[]) => void): void {
  const h = s / 2;
  const toMarch: number[] = [];
  const toFill: [number, number[]][] = [];
  for (let r = 0; r < H; r += h) {
    for (let c = 0; c < W; c += h) {
      const sup = latticeSupport(r, c, h);
      if (sup === null) continue;
      const p = r * W + c;
      if (sup.some(([y, x]) => y < 0 || y >= H || x < 0 || x >= W)) {
        toMarch.push(p);
        continue;
      }
      const ids = sup.map(([y, x]) => y * W + x);
      if (agree(px, ids, tol) || smooth(px, W, H, sup, tol)) toFill.push([p, ids]);
      else toMarch.push(p);
    }
  }
  march(toMarch);
  for (const [p, ids] of toFill) interpolate(px, p, ids);
}

/**
 * The pixels a lattice level of spacing 2h fills (r, c) from: the two coarse neighbours along a
 * coarse row or column, the four diagonal ones in a cell's centre; null on the coarse lattice
 * itself (already known).
 */
export function latticeSupport(r: number, c: number, h: number): [number, number][] | null {
  const onR = r % (2 * h) === 0;
  const onC = c % (2 * h) === 0;
  if (onR && onC) return null;
  if (onR) return [[r, c - h], [r, c + h]];
  if (onC) return [[r - h, c], [r + h, c]];
  return [[r - h, c - h], [r - h, c + h], [r + h, c - h], [r + h, c + h]];
}
