/**
 * The conditioning path of one frame for training (model-spec §3, §5): landmark window ->
 * landmark grid code c -> the two FiLM MLPs (in -> hid ReLU -> hid ReLU -> 2H, no biases), with
 * every activation kept for the backward. Training uses the raw code: the lip EMA is a
 * test-time smoother over consecutive frames, and a training step sees one frame.
 */
import { ConfigError } from '../../../worker/errors.ts';
import { encodeGrid } from '../../../worker/model/grid.ts';
import { gridBackward } from './grid-backward.ts';
import { linearBackward, linearForward, reluBackward } from './mlp-backward.ts';
import type { HeadNet } from './network.ts';

export interface ConditionCache {
  /** encoder inputs u = (p+1)/2 of every window point, 3 per point */
  u: Float32Array;
  /** the code c, window -> landmark -> level -> channel (levels >= activeLevels zeroed) */
  code: Float32Array;
  activeLevels: number;
  /** per FiLM MLP k: hidden activations after ReLU and the output g_k (a = g[0:H], b = g[H:2H]) */
  h1: [Float64Array, Float64Array];
  h2: [Float64Array, Float64Array];
  film: [Float64Array, Float64Array];
}

export interface ConditionGrads {
  /** d/d encoder_idexp_lm3d.embeddings */
  lmTable: Float32Array;
  /** d/d mlp_lms_style_{1,2}.net.{0,1,2}.weight */
  film: [[Float64Array, Float64Array, Float64Array], [Float64Array, Float64Array, Float64Array]];
}

export function codeLength(net: HeadNet): number {
  const c = net.config.condition;
  return c.window * c.numLandmarks * c.grid.levels * c.grid.featuresPerLevel;
}

/** Zeroes levels >= active of `levels` level-major blocks of C features starting at off. */
export function maskLevels(v: Float32Array | Float64Array, off: number, levels: number, C: number, active: number): void {
  if (active < levels) v.fill(0, off + active * C, off + levels * C);
}

export function conditionForward(net: HeadNet, points: Float32Array, activeLevels: number): ConditionCache {
  const cond = net.config.condition;
  const count = cond.window * cond.numLandmarks;
  if (!(points instanceof Float32Array) || points.length !== count * 3) {
    throw new ConfigError(`condition.points: expected ${count * 3} float32 values (window x landmarks x 3), got ${points?.length}`);
  }
  const L = cond.grid.levels;
  const C = cond.grid.featuresPerLevel;
  if (!Number.isInteger(activeLevels) || activeLevels < 1 || activeLevels > L) throw new ConfigError(`activeLevels.condition: expected an integer in [1, ${L}], got ${activeLevels}`);
  const width = L * C;
  const u = new Float32Array(count * 3);
  const code = new Float32Array(codeLength(net));
  for (let p = 0; p < count; p++) {
    // The renderer's rounding of u (worker/model/conditioning.ts), so training sees the same code.
    for (let d = 0; d < 3; d++) u[p * 3 + d] = Math.fround(points[p * 3 + d] + 1) / 2;
    encodeGrid(net.lmGrid, u.subarray(p * 3, p * 3 + 3), code, p * width);
    maskLevels(code, p * width, L, C, activeLevels);
  }
  const hid = cond.hiddenDim;
  const out = 2 * net.config.head.hiddenDim;
  const inDim = code.length;
  const run = (k: 0 | 1) => {
    const m = net.film[k];
    const h1 = new Float64Array(hid);
    const h2 = new Float64Array(hid);
    const g = new Float64Array(out);
    linearForward(m[0], hid, inDim, code, 0, h1, 0);
    for (let i = 0; i < hid; i++) if (h1[i] < 0) h1[i] = 0;
    linearForward(m[1], hid, hid, h1, 0, h2, 0);
    for (let i = 0; i < hid; i++) if (h2[i] < 0) h2[i] = 0;
    linearForward(m[2], out, hid, h2, 0, g, 0);
    return { h1, h2, g };
  };
  const a = run(0);
  const b = run(1);
  return { u, code, activeLevels, h1: [a.h1, b.h1], h2: [a.h2, b.h2], film: [a.g, b.g] };
}

export function createConditionGrads(net: HeadNet): ConditionGrads {
  const f = (k: 0 | 1): [Float64Array, Float64Array, Float64Array] => [
    new Float64Array(net.film[k][0].length),
    new Float64Array(net.film[k][1].length),
    new Float64Array(net.film[k][2].length),
  ];
  return { lmTable: new Float32Array(net.lmGrid.table.length), film: [f(0), f(1)] };
}

/** Accumulates the gradients of the frame's conditioning from dL/dfilm1 and dL/dfilm2. */
export function conditionBackward(net: HeadNet, cache: ConditionCache, dFilm: [Float64Array, Float64Array], grads: ConditionGrads): void {
  const cond = net.config.condition;
  const hid = cond.hiddenDim;
  const out = 2 * net.config.head.hiddenDim;
  const inDim = cache.code.length;
  const dCode = new Float32Array(inDim);
  const dCode64 = new Float64Array(inDim);
  for (const k of [0, 1] as const) {
    const m = net.film[k];
    const g = grads.film[k];
    const dh2 = new Float64Array(hid);
    linearBackward(m[2], out, hid, cache.h2[k], 0, dFilm[k], 0, g[2], dh2, 0);
    reluBackward(cache.h2[k], 0, dh2, 0, hid);
    const dh1 = new Float64Array(hid);
    linearBackward(m[1], hid, hid, cache.h1[k], 0, dh2, 0, g[1], dh1, 0);
    reluBackward(cache.h1[k], 0, dh1, 0, hid);
    linearBackward(m[0], hid, inDim, cache.code, 0, dh1, 0, g[0], dCode64, 0);
  }
  const L = cond.grid.levels;
  const C = cond.grid.featuresPerLevel;
  const width = L * C;
  for (let i = 0; i < inDim; i++) dCode[i] = dCode64[i];
  const count = cond.window * cond.numLandmarks;
  for (let p = 0; p < count; p++) {
    // Released levels only: the masked ones output zero whatever their table holds.
    maskLevels(dCode, p * width, L, C, cache.activeLevels);
    gridBackward(net.lmGrid, cache.u.subarray(p * 3, p * 3 + 3), dCode, p * width, grads.lmTable);
  }
}
