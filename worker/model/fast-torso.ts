/**
 * Fast mode's torso (issue 14), shared by the CPU reference (fast-renderer.ts) and the WebGPU
 * path (worker/render/fast-renderer.ts), which differ only in who evaluates a list of pixels:
 * - the torso shows only through 1 - head weight sum, so pixels under an opaque head are not
 *   evaluated at all;
 * - the visible torso pixels are evaluated on a coarse lattice first; each finer lattice's new
 *   pixels are interpolated where their coarser neighbours agree (alpha and premultiplied
 *   colour within `colour`, or on a locally linear signal) and evaluated where they do not: the
 *   torso's silhouette, the collar, folds. A pixel outside the torso occupancy counts as a
 *   known torso of alpha 0 (exact mode leaves the background there), a hidden torso pixel as
 *   unknown (its neighbours are evaluated);
 * - the torso depends on the pose alone: while the pose stays bit-identical, every value
 *   evaluated since it was set is reused.
 * The first frame after a reset evaluates every visible torso pixel (stride 1).
 */
import { ConfigError } from '../errors.ts';
import { latticeSupport } from './fast-refine.ts';

export interface TorsoTolerance {
  /** Supports agree when alpha and premultiplied colour differ by at most this. */
  colour: number;
  /** Or when the second differences along their line are at most this. */
  curvature: number;
}

/** Which pixels to evaluate, and how their values come back. */
export type TorsoEvaluate = (list: Uint32Array) => void;

export class TorsoRefiner {
  /** Per pixel alpha, premultiplied r, g, b of this frame (4 floats a pixel). */
  readonly vals: Float32Array;
  /** 0 unknown, 1 known this frame (evaluated, interpolated, cached, or outside the torso). */
  private readonly known: Uint8Array;
  /** 1 where the pixel is a visible torso pixel this frame. */
  private readonly need: Uint8Array;
  private readonly listed: Uint8Array;
  private readonly cache: Float32Array;
  private readonly cached: Uint8Array;
  private cachePose: Float32Array | null = null;
  /** Pixels handed to the evaluator this frame. */
  evaluated = 0;
  interpolated = 0;
  reused = 0;

  constructor(readonly width: number, readonly height: number, private readonly torsoList: Uint32Array) {
    const n = width * height;
    for (const p of torsoList) if (!(p < n)) throw new ConfigError(`torso refiner: pixel ${p} outside a ${width}x${height} image`);
    this.vals = new Float32Array(n * 4);
    this.known = new Uint8Array(n);
    this.need = new Uint8Array(n);
    this.listed = new Uint8Array(n);
    for (const p of torsoList) this.listed[p] = 1;
    this.cache = new Float32Array(n * 4);
    this.cached = new Uint8Array(n);
  }

  /** Forgets the cached pose's values. */
  reset(): void {
    this.cachePose = null;
  }

  /**
   * One frame: marks the visible torso pixels (1 - weightSum > visible), then evaluates the
   * stride lattice and refines it; `evaluate` must call store() for the pixels it is given.
   */
  run(pose: Float32Array, weightSum: Float32Array, visible: number, stride: number, tol: TorsoTolerance, evaluate: TorsoEvaluate): void {
    this.begin(pose, weightSum, visible);
    this.handOut(this.coarse(stride), evaluate);
    for (let s = stride; s > 1; s /= 2) this.handOut(this.level(s, tol), evaluate);
  }

  /**
   * run() in steps, for evaluators that send each list with other GPU work (the WebGPU fast
   * mode's head rounds) as the head's weight sums become final: start() once the coarse
   * lattice's are, then the list of level s (stride, ..., 2) once those of lattice s/2 are, then
   * finish() once all are, before composite(). Each list's values must be store()d before the
   * next list is asked for. Same lists and values as run() with the final weight sums.
   */
  start(pose: Float32Array, weightSum: Float32Array, visible: number, stride: number): Uint32Array {
    this.begin(pose, weightSum, visible);
    return this.fromCache(this.coarse(stride));
  }

  /** The pixels of level s (lattice s/2) to evaluate; weightSum final on lattice s/2. */
  levelList(s: number, weightSum: Float32Array, visible: number, tol: TorsoTolerance): Uint32Array {
    this.mark(weightSum, visible);
    return this.fromCache(this.level(s, tol));
  }

  /** With every pixel's final weight sum, before composite(). */
  finish(weightSum: Float32Array, visible: number): void {
    this.mark(weightSum, visible);
  }

  /** Stores the evaluated alpha and premultiplied r, g, b of list[j] from values[4j ..]. */
  store(list: ArrayLike<number>, values: Float32Array): void {
    if (values.length < list.length * 4) throw new ConfigError(`torso refiner: expected ${list.length * 4} values, got ${values.length}`);
    for (let j = 0; j < list.length; j++) {
      const p = list[j];
      const o = p * 4;
      for (let k = 0; k < 4; k++) this.vals[o + k] = values[j * 4 + k];
      this.known[p] = 1;
      this.cache.set(this.vals.subarray(o, o + 4), o);
      this.cached[p] = 1;
    }
    this.evaluated += list.length;
  }

  /** bg' = premultiplied torso + background * (1 - alpha) of every pixel (background elsewhere). */
  composite(background: Float32Array, out: Float32Array): void {
    out.set(background);
    const v = this.vals;
    for (const p of this.torsoList) {
      if (!this.need[p]) continue;
      const a = v[p * 4];
      for (let k = 0; k < 3; k++) out[p * 3 + k] = v[p * 4 + 1 + k] + background[p * 3 + k] * (1 - a);
    }
  }

  private begin(pose: Float32Array, weightSum: Float32Array, visible: number): void {
    const same = this.cachePose !== null && this.cachePose.every((v, i) => Object.is(v, pose[i]));
    if (!same) {
      this.cached.fill(0);
      this.cachePose = Float32Array.from(pose);
    }
    this.known.fill(1);
    this.vals.fill(0);
    for (const p of this.torsoList) this.known[p] = 0;
    this.mark(weightSum, visible);
    this.evaluated = 0;
    this.interpolated = 0;
    this.reused = 0;
  }

  /** The torso pixels the head leaves visible (1 - weight sum > visible). */
  private mark(weightSum: Float32Array, visible: number): void {
    this.need.fill(0);
    for (const p of this.torsoList) if (1 - weightSum[p] > visible) this.need[p] = 1;
  }

  private handOut(list: number[], evaluate: TorsoEvaluate): void {
    const rest = this.fromCache(list);
    if (rest.length) evaluate(rest);
  }

  /** The list less the pixels the cache holds for this pose (those are filled from it). */
  private fromCache(list: number[]): Uint32Array {
    const rest: number[] = [];
    for (const p of list) {
      if (this.cached[p]) {
        this.vals.set(this.cache.subarray(p * 4, p * 4 + 4), p * 4);
        this.known[p] = 1;
        this.reused++;
      } else rest.push(p);
    }
    return Uint32Array.from(rest);
  }

  private coarse(stride: number): number[] {
    const { width: W, height: H } = this;
    const out: number[] = [];
    for (let r = 0; r < H; r += stride) for (let c = 0; c < W; c += stride) if (this.need[r * W + c]) out.push(r * W + c);
    return out;
  }

  /** From lattice stride s to s/2: interpolates the new pixels that can be, returns the rest. */
  private level(s: number, tol: TorsoTolerance): number[] {
    const { width: W, height: H } = this;
    const h = s / 2;
    const toEval: number[] = [];
    for (let r = 0; r < H; r += h) {
      for (let c = 0; c < W; c += h) {
        const sup = latticeSupport(r, c, h);
        if (sup === null) continue;
        const p = r * W + c;
        if (!this.need[p]) continue;
        if (sup.some(([y, x]) => y < 0 || y >= H || x < 0 || x >= W || !this.known[y * W + x])) {
          toEval.push(p);
          continue;
        }
        const ids = sup.map(([y, x]) => y * W + x);
        if (this.agree(ids, tol.colour) || this.smooth(sup, tol.curvature)) this.interpolate(p, ids);
        else toEval.push(p);
      }
    }
    return toEval;
  }

  private agree(ids: number[], tol: number): boolean {
    const v = this.vals;
    const a = ids[0] * 4;
    for (let j = 1; j < ids.length; j++) {
      const b = ids[j] * 4;
      for (let k = 0; k < 4; k++) if (Math.abs(v[a + k] - v[b + k]) > tol) return false;
    }
    return true;
  }

  /** Each line through opposite supports, extended one lattice step either way, is locally linear. */
  private smooth(sup: [number, number][], tol: number): boolean {
    const { width: W, height: H } = this;
    const v = this.vals;
    const pairs = sup.length === 2 ? [[sup[0], sup[1]]] : [[sup[0], sup[3]], [sup[1], sup[2]]];
    for (const [[ya, xa], [yb, xb]] of pairs) {
      const dy = yb - ya;
      const dx = xb - xa;
      const ya2 = ya - dy;
      const xa2 = xa - dx;
      const yb2 = yb + dy;
      const xb2 = xb + dx;
      if (ya2 < 0 || ya2 >= H || xa2 < 0 || xa2 >= W || yb2 < 0 || yb2 >= H || xb2 < 0 || xb2 >= W) return false;
      const a2 = ya2 * W + xa2;
      const b2 = yb2 * W + xb2;
      if (!this.known[a2] || !this.known[b2]) return false;
      const a = ya * W + xa;
      const b = yb * W + xb;
      for (let k = 0; k < 4; k++) {
        const A = v[a * 4 + k];
        const B = v[b * 4 + k];
        if (Math.abs(v[a2 * 4 + k] - 2 * A + B) > tol || Math.abs(A - 2 * B + v[b2 * 4 + k]) > tol) return false;
      }
    }
    return true;
  }

  private interpolate(p: number, ids: number[]): void {
    const v = this.vals;
    const k = 1 / ids.length;
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (const q of ids) s += v[q * 4 + c];
      v[p * 4 + c] = s * k;
    }
    this.known[p] = 1;
    this.interpolated++;
  }
}
