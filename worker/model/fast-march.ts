/**
 * Fast-mode marching (CPU reference): exactly the sample positions and image-wide pass schedule
 * of march.ts, but the field is evaluated only where it can change the image:
 * - samples ahead of a per-ray start (the predicted surface less a margin) count as empty space;
 *   a ray whose first evaluated sample is already dense started too late (the surface came
 *   closer: disocclusion, a head turn, a lip closing) and is replayed with every sample;
 * - a sample whose transmittance is already below the threshold is not evaluated (exact mode
 *   evaluates it and gives it a weight below the threshold);
 * - the colour half of a sample runs only when its compositing weight can show.
 * Keeping the sample lattice and the schedule means a ray that fast mode evaluates in full
 * gives exact mode's colour, and a guided ray differs only by the skipped samples' opacity.
 */
import type { MarchConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { checkBitfield, marchRay, type RayBatch } from './march.ts';

const f = Math.fround;

/** A sample's FiLM sensitivity counts for its ray where its weight exceeds this (where it can show). */
export const VISIBLE_WEIGHT = 1 / 2048;

/** The head field in two halves: density at x, then the colour of that same sample. */
export interface SplitField {
  sigma(x: Float32Array): number;
  colour(d: Float32Array, rgb: Float32Array): void;
  /** The last sigma call's sensitivity to the frame's conditioning (FilmDelta), if tracked. */
  sensitivity?(): number;
}

export interface FastMarchOptions {
  /** Per ray: samples with t below it are skipped; -Infinity evaluates every sample. */
  tStart: Float32Array;
  /** A guided ray (finite tStart) whose first evaluated sample has alpha above this is replayed in full. */
  validAlpha: number;
  /**
   * The colour half runs for a sample once its weight, with that of the uncoloured samples in
   * front of it, exceeds this; they all take its colour (samples behind the last coloured one
   * take the ray's mean colour). Near a surface colour changes little from sample to sample.
   */
  colourWeight: number;
  /** alpha at which a sample counts as the ray's surface (hitT). */
  hitAlpha: number;
  /**
   * A ray ends once its transmittance falls below this or the avatar's march.tThreshold,
   * whichever is larger (the rest of its weight, at most this, shows what lies behind).
   */
  terminate?: number;
}

export interface FastMarchResult {
  rgb: Float32Array;
  weightSum: Float32Array;
  /** t of each ray's first sample with alpha > hitAlpha; NaN where there is none. */
  hitT: Float32Array;
  /** Per ray, the largest sensitivity of a sample whose weight can show (0 without field.sensitivity). */
  sensitivity: Float32Array;
  passes: number[];
  sigmaEvals: number;
  colourEvals: number;
  /** Guided rays that failed the validity test and were replayed with every sample. */
  replayed: number;
  /**
   * sigmaEvals by the rays' fate: guided rays that passed the validity test, rays without a
   * start (no reprojected surface: the first frame, disocclusions, background), and replayed
   * rays (their evaluations before and after the replay).
   */
  evalsBy: { guided: number; unguided: number; replayed: number };
}

type RayFate = 'alive' | 'dead' | 'replay';

export function checkFastMarchOptions(o: FastMarchOptions, count: number): void {
  if (!(o.tStart instanceof Float32Array) || o.tStart.length !== count) throw new ConfigError(`fast march: tStart: expected ${count} float32 values, got ${o.tStart?.length}`);
  for (const k of ['validAlpha', 'colourWeight', 'hitAlpha'] as const) {
    if (!(o[k] >= 0 && o[k] < 1)) throw new ConfigError(`fast march: ${k}: expected a number in [0, 1), got ${o[k]}`);
  }
  if (o.terminate !== undefined && !(o.terminate >= 0 && o.terminate < 1)) throw new ConfigError(`fast march: terminate: expected a number in [0, 1), got ${o.terminate}`);
}

export function fastMarchImage(rays: RayBatch, bitfield: Uint8Array, march: MarchConfig, field: SplitField, opts: FastMarchOptions): FastMarchResult {
  const N = rays.count;
  if (!Number.isInteger(N) || N < 1) throw new ConfigError(`rays.count: expected a positive integer, got ${N}`);
  for (const [name, arr, len] of [
    ['origins', rays.origins, 3 * N],
    ['directions', rays.directions, 3 * N],
    ['nears', rays.nears, N],
    ['fars', rays.fars, N],
  ] as const) {
    if (!(arr instanceof Float32Array) || arr.length !== len) throw new ConfigError(`rays.${name}: expected ${len} float32 values, got ${arr?.length}`);
  }
  checkBitfield(bitfield, march);
  checkFastMarchOptions(opts, N);

  const rgb = new Float32Array(N * 3);
  const weightSum = new Float32Array(N);
  const hitT = new Float32Array(N).fill(NaN);
  const sensitivity = new Float32Array(N);
  const raysT = Float32Array.from(rays.nears);
  // 1 once a guided ray has evaluated its first sample (the one the validity test looks at);
  // skipped: 1 once it has passed over a sample (without one, nothing can have been missed).
  const started = new Uint8Array(N);
  const skipped = new Uint8Array(N);
  const maxPerPass = march.maxStepsPerPass;
  const xyz = new Float32Array(maxPerPass * 3);
  const ts = new Float32Array(maxPerPass);
  const dts = new Float32Array(maxPerPass);
  const xs = new Float32Array(3);
  const ds = new Float32Array(3);
  const o = new Float32Array(3);
  const c = new Float32Array(3);
  const thr = Math.max(march.tThreshold, opts.terminate ?? 0);
  let sigmaEvals = 0;
  let colourEvals = 0;
  const evalsOf = new Uint32Array(N);
  // Per ray: weight of samples whose colour was not evaluated yet to be given one, and weight of those that have one.
  const pending = new Float32Array(N);
  const coloured = new Float32Array(N);

  /** One pass of nStep samples for ray r; `from` is its evaluation start, `guided` whether to test validity. */
  const advance = (r: number, nStep: number, from: number, guided: boolean): RayFate => {
    for (let k = 0; k < 3; k++) {
      o[k] = rays.origins[r * 3 + k];
      ds[k] = rays.directions[r * 3 + k];
    }
    const filled = marchRay(o, ds, raysT[r], rays.fars[r], nStep, bitfield, march, xyz, ts, dts);
    let t = raysT[r];
    let ws = weightSum[r];
    let s = 0;
    for (; s < filled; s++) {
      const T = f(1 - ws);
      // Exact mode would give this sample a weight alpha*T < thr and then end the ray.
      if (T < thr) break;
      const dt = dts[s];
      t = f(ts[s] + dt);
      if (ts[s] < from) {
        skipped[r] = 1;
        continue;
      }
      xs[0] = xyz[s * 3];
      xs[1] = xyz[s * 3 + 1];
      xs[2] = xyz[s * 3 + 2];
      const sigma = field.sigma(xs);
      sigmaEvals++;
      evalsOf[r]++;
      const alpha = f(1 - Math.exp(-f(sigma * dt)));
      if (guided && !started[r]) {
        started[r] = 1;
        if (skipped[r] && alpha > opts.validAlpha) return 'replay';
      }
      if (alpha > opts.hitAlpha && Number.isNaN(hitT[r])) hitT[r] = ts[s];
      const w = f(alpha * T);
      ws = f(ws + w);
      if (w > VISIBLE_WEIGHT && field.sensitivity) sensitivity[r] = Math.max(sensitivity[r], field.sensitivity());
      // This sample and the light ones in front of it that have no colour yet take its colour
      // once their weight together exceeds colourWeight.
      const wc = f(w + pending[r]);
      if (wc > opts.colourWeight) {
        field.colour(ds, c);
        colourEvals++;
        pending[r] = 0;
        coloured[r] = f(coloured[r] + wc);
        for (let k = 0; k < 3; k++) rgb[r * 3 + k] = f(rgb[r * 3 + k] + f(wc * c[k]));
      } else {
        pending[r] = wc;
      }
    }
    weightSum[r] = ws;
    if (s < nStep) return 'dead';
    raysT[r] = t;
    return 'alive';
  };

  const passes: number[] = [];
  const replay: number[] = [];
  let alive = new Int32Array(N);
  for (let i = 0; i < N; i++) alive[i] = i;
  let nAlive = N;
  let step = 0;
  while (step < march.maxSteps && nAlive > 0) {
    const nStep = Math.max(Math.min(Math.floor(N / nAlive), maxPerPass), 1);
    const next = new Int32Array(nAlive);
    let kept = 0;
    for (let a = 0; a < nAlive; a++) {
      const r = alive[a];
      const from = opts.tStart[r];
      const fate = advance(r, nStep, from, from > -Infinity);
      if (fate === 'alive') next[kept++] = r;
      else if (fate === 'replay') replay.push(r);
    }
    passes.push(nStep);
    step += nStep;
    alive = next;
    nAlive = kept;
  }

  // Replays follow the same pass sequence; past its end (every other ray died first) a lone
  // ray would get maxStepsPerPass samples a pass, as the schedule gives when few rays are alive.
  for (const r of replay) {
    raysT[r] = rays.nears[r];
    weightSum[r] = 0;
    rgb.fill(0, r * 3, r * 3 + 3);
    hitT[r] = NaN;
    sensitivity[r] = 0;
    pending[r] = 0;
    coloured[r] = 0;
    let done = 0;
    for (let p = 0; done < march.maxSteps; p++) {
      const nStep = p < passes.length ? passes[p] : maxPerPass;
      done += nStep;
      if (advance(r, nStep, -Infinity, false) !== 'alive') break;
    }
  }
  borrowColour(rgb, pending, coloured);
  closeOpaque(rgb, weightSum, opts.terminate ?? 0);
  const evalsBy = { guided: 0, unguided: 0, replayed: 0 };
  for (const r of replay) {
    evalsBy.replayed += evalsOf[r];
    evalsOf[r] = 0;
  }
  for (let r = 0; r < N; r++) {
    if (opts.tStart[r] > -Infinity) evalsBy.guided += evalsOf[r];
    else evalsBy.unguided += evalsOf[r];
  }
  return { rgb, weightSum, hitT, sensitivity, passes, sigmaEvals, colourEvals, replayed: replay.length, evalsBy };
}

/**
 * Light samples behind a ray's last coloured one take the mean colour of its coloured samples:
 * rgb scaled by (coloured + pending) / coloured (the WebGPU path does the same on the host).
 */
export function borrowColour(rgb: Float32Array, pending: ArrayLike<number>, coloured: ArrayLike<number>): void {
  for (let r = 0; r < pending.length; r++) {
    if (!(pending[r] > 0 && coloured[r] > 0)) continue;
    const k = f(f(coloured[r] + pending[r]) / coloured[r]);
    for (let j = 0; j < 3; j++) rgb[r * 3 + j] = f(rgb[r * 3 + j] * k);
  }
}

/**
 * A ray that ended on `terminate` (transmittance 1 - weightSum below it) gives its last weight to
 * its own mean colour, not to the torso and background behind: exact mode spends that weight on
 * the samples just behind the surface, which lie in the same shell and look like it. rgb / ws,
 * weightSum 1. Without it, the error of ending early is the whole remainder times the gap between
 * the head and what lies behind (terminate 1/16, the built-in's first frame at 32 px with every
 * colour evaluated: 47.75 dB from exact; with it 55.51 dB), so the default stayed at 1/256; with
 * it, 1/32 (FAST_MODE_DEFAULTS) ends rays sooner at no loss (bench/fast.ts, 10 s at 128 px, built-in: 0.286 -> 0.269 of exact's
 * multiply-adds, sequence 43.29 -> 43.33 dB, worst and mouth frames unchanged). 0 (the exact
 * schedule) changes nothing.
 */
export function closeOpaque(rgb: Float32Array, weightSum: Float32Array, terminate: number): void {
  if (!(terminate > 0)) return;
  for (let r = 0; r < weightSum.length; r++) {
    const ws = weightSum[r];
    if (!(f(1 - ws) < terminate && ws > 0)) continue;
    const k = f(1 / ws);
    for (let j = 0; j < 3; j++) rgb[r * 3 + j] = f(rgb[r * 3 + j] * k);
    weightSum[r] = 1;
  }
}
