/**
 * A procedural head for tests (what users see is the trained assets/avatars/builtin.r2t): its weights are constructed by hand so that
 * the real R2-Talker network (grid -> FiLM-conditioned sigma net -> colour net) renders it, and
 * its mouth opens with the inner-lip landmarks. It needs no training data, exercises every
 * stage of the renderer, and gives tests a face whose mouth region measurably changes with
 * speech.
 *
 * How the hand-made network works (two dense grid levels of 4 features at the same resolution,
 * so the encoded features f0..f7 are level 0 then level 1):
 *   f0 density logit, f1..f3 albedo logits (lighting baked in), f4 mouth mask m, f5 constant 1.
 *   sigma net layer 1 passes signed values through ReLU as (+x, -x) pairs and forms
 *   u8 = m * (1 + b) where FiLM's b = K * opening (from the landmark code), u9 = m, u10 = 1;
 *   layer 2 forms v = relu(u8 - u9 - T * u10) = relu(K * m * opening - T): a dark mouth band
 *   whose height grows with the opening; layer 3 emits sigma logit f0 and geo = albedo - D * v.
 *   The colour net passes geo through (+x, -x) pairs and sigmoid gives the albedo back.
 *   The landmark grid stores u_y linearly, so the code holds each landmark's y exactly and the
 *   first conditioning layer reads opening = y(62) - y(66) of the centre frame.
 */
import { type CameraConfig, type GridConfig, type ModelConfig, expectedTensors } from './config.ts';
import type { Avatar, LandmarkStats, Tensor } from './types.ts';
import { landmarkStatistics } from '../model/landmarks.ts';

const HEAD_RES = 64; // level-0 resolution of the head grid (R)
const HEAD_F = 4;
const HEAD_LEVELS = 2;
const LM_RES = 16;
const HIDDEN = 64;
const COND_HIDDEN = 32;
const SIZE = 256;

/** Inner-lip landmarks (iBUG 68): 61-63 upper, 65-67 lower; 62 and 66 are the centres. */
export const UPPER_INNER_LIP = 62;
export const LOWER_INNER_LIP = 66;

/** `levels` dense levels of the same resolution (per-level scale 1), no hashing or wrap-around. */
function denseGrid(inputDim: 2 | 3, res: number, features: number, levels = 1): GridConfig {
  const rows = Math.ceil((res + 1) ** inputDim / 8) * 8;
  const offsets = Array.from({ length: levels + 1 }, (_, l) => l * rows);
  return { inputDim, levels, featuresPerLevel: features, baseResolution: res, finestResolution: res, gridType: 'tiled', offsets };
}

export function demoConfig(): ModelConfig {
  return {
    head: { grid: denseGrid(3, HEAD_RES, HEAD_F, HEAD_LEVELS), eyeInput: true, hiddenDim: HIDDEN, geoFeatDim: HIDDEN, colorHiddenDim: HIDDEN, individualDim: 4, shDegree: 4 },
    condition: { grid: denseGrid(3, LM_RES, 2), numLandmarks: 68, window: 5, hiddenDim: COND_HIDDEN, lipSmoothing: 0.35 },
    torso: null,
    march: { gridResolution: 128, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: [-1, -1, -1, 1, 1, 1],
  };
}

export function demoCamera(): CameraConfig {
  return { fx: 420, fy: 420, cx: SIZE / 2, cy: SIZE / 2, width: SIZE, height: SIZE };
}

// Head geometry (world units; camera looks at the face from +z, world y up).
const HEAD = { a: 0.55, b: 0.7, c: 0.6 };
const NOSE = { x: 0, y: 0.02, z: 0.56, r: 0.11 };
const MOUTH = { y: -0.3, halfWidth: 0.2, halfHeight: 0.07 };
const EYES = [
  { x: -0.2, y: 0.14 },
  { x: 0.2, y: 0.14 },
];
const LIGHT = normalize([0.4, 0.5, 0.75]);

function normalize(v: number[]): number[] {
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Signed "inside" measure: > 0 inside the head (union of skull ellipsoid and nose sphere). */
function inside(x: number, y: number, z: number): number {
  const e = 1 - Math.hypot(x / HEAD.a, y / HEAD.b, z / HEAD.c);
  const n = 1 - Math.hypot(x - NOSE.x, y - NOSE.y, z - NOSE.z) / NOSE.r;
  return Math.max(e, n * 0.25);
}

function albedo(x: number, y: number, z: number): number[] {
  const h = 1e-3;
  const g = normalize([
    inside(x - h, y, z) - inside(x + h, y, z),
    inside(x, y - h, z) - inside(x, y + h, z),
    inside(x, y, z - h) - inside(x, y, z + h),
  ]);
  const lambert = Math.max(0, g[0] * LIGHT[0] + g[1] * LIGHT[1] + g[2] * LIGHT[2]);
  const shade = 0.35 + 0.65 * lambert;
  let col = [0.87, 0.66, 0.53]; // skin
  const front = z > 0.2;
  if (y > 0.38 || (y > 0.2 && z < 0.1)) col = [0.23, 0.15, 0.1]; // hair
  for (const e of EYES) {
    const d = Math.hypot((x - e.x) / 0.075, (y - e.y) / 0.04);
    if (front && d < 1) col = d < 0.55 ? [0.08, 0.06, 0.05] : [0.95, 0.95, 0.93];
    if (front && Math.hypot((x - e.x) / 0.09, (y - e.y - 0.09) / 0.018) < 1) col = [0.2, 0.13, 0.09]; // brow
  }
  const lip = Math.hypot(x / MOUTH.halfWidth, (y - MOUTH.y) / 0.05);
  if (front && lip < 1) col = [0.72, 0.3, 0.3];
  return col.map((c) => c * shade);
}

function logit(p: number): number {
  const q = Math.min(0.995, Math.max(0.005, p));
  return Math.log(q / (1 - q));
}

/** Mouth mask: 1 on the lip centre line, fading to 0 at the band's top and bottom edges. */
function mouthMask(x: number, y: number, z: number): number {
  if (z < 0.2) return 0;
  const across = 1 - Math.abs(x) / MOUTH.halfWidth;
  const down = 1 - Math.abs(y - MOUTH.y) / MOUTH.halfHeight;
  return Math.max(0, Math.min(across * 1.5, 1)) * Math.max(0, down);
}

function headTable(): Float32Array {
  const R1 = HEAD_RES + 1;
  const offsets = demoConfig().head.grid.offsets;
  const level1 = offsets[1] * HEAD_F;
  const t = new Float32Array(offsets[HEAD_LEVELS] * HEAD_F);
  for (let k = 0; k < R1; k++)
    for (let j = 0; j < R1; j++)
      for (let i = 0; i < R1; i++) {
        // vertex i sits at u = (i - 0.5) / (R - 1) since pos = u * (R - 1) + 0.5 (model-spec §4)
        const [x, y, z] = [i, j, k].map((v) => ((v - 0.5) / (HEAD_RES - 1)) * 2 - 1);
        const row = (i + j * R1 + k * R1 * R1) * HEAD_F;
        t[row] = Math.max(-10, Math.min(8, 60 * inside(x, y, z)));
        const a = albedo(x, y, z);
        t[row + 1] = logit(a[0]);
        t[row + 2] = logit(a[1]);
        t[row + 3] = logit(a[2]);
        t[level1 + row] = mouthMask(x, y, z);
        t[level1 + row + 1] = 1;
      }
  return t;
}

/** The landmark grid stores (u_y, 1) at every vertex: linear, so interpolation is exact. */
function landmarkTable(): Float32Array {
  const R1 = LM_RES + 1;
  const rows = demoConfig().condition.grid.offsets[1];
  const t = new Float32Array(rows * 2);
  for (let k = 0; k < R1; k++)
    for (let j = 0; j < R1; j++)
      for (let i = 0; i < R1; i++) {
        const row = (i + j * R1 + k * R1 * R1) * 2;
        t[row] = (j - 0.5) / (LM_RES - 1);
        t[row + 1] = 1;
      }
  return t;
}

function bitfield(): Uint8Array {
  const R = 128;
  const out = new Uint8Array((R * R * R) / 8);
  const margin = (2 / R) * 1.8; // a cell is kept if any part of it can hold density
  for (let k = 0; k < R; k++)
    for (let j = 0; j < R; j++)
      for (let i = 0; i < R; i++) {
        const [x, y, z] = [i, j, k].map((v) => ((v + 0.5) / R) * 2 - 1);
        if (inside(x, y, z) < -margin) continue;
        const m = morton3(i, j, k);
        out[m >> 3] |= 1 << (m & 7);
      }
  return out;
}

function morton3(x: number, y: number, z: number): number {
  let m = 0;
  for (let b = 0; b < 7; b++) m |= (((x >> b) & 1) << (3 * b)) | (((y >> b) & 1) << (3 * b + 1)) | (((z >> b) & 1) << (3 * b + 2));
  return m;
}

/** Camera-to-world poses (renderer convention: camera x right, y down, z forward). */
export function demoPoses(count = 50): Float32Array {
  const out = new Float32Array(count * 16);
  for (let n = 0; n < count; n++) {
    const yaw = 0.12 * Math.sin((2 * Math.PI * n) / count);
    const pitch = 0.05 * Math.sin((4 * Math.PI * n) / count);
    const dist = 3.2;
    const eye = [dist * Math.sin(yaw) * Math.cos(pitch), dist * Math.sin(pitch), dist * Math.cos(yaw) * Math.cos(pitch)];
    const fwd = normalize(eye.map((v) => -v));
    const right = normalize([fwd[2], 0, -fwd[0]].map((v) => -v)); // forward x world-up, flipped so +x is image right
    const down = [fwd[1] * right[2] - fwd[2] * right[1], fwd[2] * right[0] - fwd[0] * right[2], fwd[0] * right[1] - fwd[1] * right[0]];
    const cols = [right, down, fwd];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[n * 16 + r * 4 + c] = cols[c][r];
      out[n * 16 + r * 4 + 3] = eye[r];
    }
    out[n * 16 + 15] = 1;
  }
  return out;
}

function backgroundImage(): Uint8Array {
  const img = new Uint8Array(SIZE * SIZE * 3);
  for (let r = 0; r < SIZE; r++)
    for (let c = 0; c < SIZE; c++) {
      const v = r / (SIZE - 1);
      const o = (r * SIZE + c) * 3;
      img[o] = Math.round(70 + 40 * v);
      img[o + 1] = Math.round(90 + 40 * v);
      img[o + 2] = Math.round(120 + 30 * v);
    }
  return img;
}

/** Gains of the hand-made network (see the header comment). */
const OPEN_GAIN = 18; // first conditioning layer: u_y difference (opening / 2) -> opening in [0, ~1]
const FILM_GAIN = 1; // K: FiLM scale per unit opening
const MOUTH_THRESHOLD = 0.3; // T
const DARKEN = [9, 10, 10]; // D per channel (logits)

function sigmaWeights(inDim: number): [Float32Array, Float32Array, Float32Array] {
  const W0 = new Float32Array(HIDDEN * inDim);
  const set0 = (o: number, i: number, v: number) => (W0[o * inDim + i] = v);
  for (let f = 0; f < 4; f++) {
    set0(2 * f, f, 1);
    set0(2 * f + 1, f, -1);
  }
  set0(8, 4, 1); // m, FiLM-scaled
  set0(9, 4, 1); // m
  set0(10, 5, 1); // constant
  const W1 = new Float32Array(HIDDEN * HIDDEN);
  for (let u = 0; u < 8; u++) W1[u * HIDDEN + u] = 1;
  W1[8 * HIDDEN + 8] = 1;
  W1[8 * HIDDEN + 9] = -1;
  W1[8 * HIDDEN + 10] = -MOUTH_THRESHOLD;
  const W2 = new Float32Array((1 + HIDDEN) * HIDDEN);
  W2[0 * HIDDEN + 0] = 1;
  W2[0 * HIDDEN + 1] = -1;
  for (let c = 0; c < 3; c++) {
    W2[(1 + c) * HIDDEN + 2 * (c + 1)] = 1;
    W2[(1 + c) * HIDDEN + 2 * (c + 1) + 1] = -1;
    W2[(1 + c) * HIDDEN + 8] = -DARKEN[c];
  }
  return [W0, W1, W2];
}

function colorWeights(inDim: number, shValues: number): [Float32Array, Float32Array] {
  const W0 = new Float32Array(HIDDEN * inDim);
  for (let c = 0; c < 3; c++) {
    W0[2 * c * inDim + shValues + c] = 1;
    W0[(2 * c + 1) * inDim + shValues + c] = -1;
  }
  const W1 = new Float32Array(3 * HIDDEN);
  for (let c = 0; c < 3; c++) {
    W1[c * HIDDEN + 2 * c] = 1;
    W1[c * HIDDEN + 2 * c + 1] = -1;
  }
  return [W0, W1];
}

function filmWeights(cfg: ModelConfig, scaled: boolean): [Float32Array, Float32Array, Float32Array] {
  const c = cfg.condition;
  const L = c.grid.levels;
  const F = c.grid.featuresPerLevel;
  const inDim = c.numLandmarks * c.window * L * F;
  const W0 = new Float32Array(c.hiddenDim * inDim);
  const W1 = new Float32Array(c.hiddenDim * c.hiddenDim);
  const W2 = new Float32Array(2 * HIDDEN * c.hiddenDim);
  if (scaled) {
    const centre = (c.window - 1) / 2;
    // code layout: frame -> landmark -> level -> channel; channel 0 of level 0 is u_y
    const at = (lm: number) => ((centre * c.numLandmarks + lm) * L + 0) * F + 0;
    W0[at(UPPER_INNER_LIP)] = OPEN_GAIN;
    W0[at(LOWER_INNER_LIP)] = -OPEN_GAIN;
    W1[0] = 1;
    W2[(HIDDEN + 8) * c.hiddenDim + 0] = FILM_GAIN; // b of hidden unit 8 of sigma layer 1
  }
  return [W0, W1, W2];
}

function f32(name: string, shape: number[], data: Float32Array): Tensor {
  return { name, dtype: 'float32', shape, data };
}

/** Builds the demo avatar in memory (about 7 MB of float32 weights). */
export function makeDemoAvatar(): Avatar {
  const config = demoConfig();
  const camera = demoCamera();
  const specs = new Map(expectedTensors(config).map((s) => [s.name, s]));
  const shape = (n: string) => specs.get(n)!.shape;
  const sigmaIn = shape('sigma_net.net.0.weight')[1];
  const colorIn = shape('color_net.net.0.weight')[1];
  const sigma = sigmaWeights(sigmaIn);
  const color = colorWeights(colorIn, config.head.shDegree ** 2);
  const film1 = filmWeights(config, true);
  const film2 = filmWeights(config, false);
  const poses = demoPoses();
  const tensors: Tensor[] = [
    f32('encoder.embeddings', shape('encoder.embeddings'), headTable()),
    f32('encoder_idexp_lm3d.embeddings', shape('encoder_idexp_lm3d.embeddings'), landmarkTable()),
    f32('sigma_net.net.0.weight', shape('sigma_net.net.0.weight'), sigma[0]),
    f32('sigma_net.net.1.weight', shape('sigma_net.net.1.weight'), sigma[1]),
    f32('sigma_net.net.2.weight', shape('sigma_net.net.2.weight'), sigma[2]),
    f32('color_net.net.0.weight', shape('color_net.net.0.weight'), color[0]),
    f32('color_net.net.1.weight', shape('color_net.net.1.weight'), color[1]),
    f32('individual_code', shape('individual_code'), new Float32Array(config.head.individualDim)),
    { name: 'density_bitfield', dtype: 'uint8', shape: shape('density_bitfield'), data: bitfield() },
    { name: 'poses', dtype: 'float32', shape: [poses.length / 16, 4, 4], data: poses },
    { name: 'background', dtype: 'uint8', shape: [camera.height, camera.width, 3], data: backgroundImage() },
  ];
  for (const [k, w] of [
    [1, film1],
    [2, film2],
  ] as const) {
    for (let i = 0; i < 3; i++) tensors.push(f32(`mlp_lms_style_${k}.net.${i}.weight`, shape(`mlp_lms_style_${k}.net.${i}.weight`), w[i]));
  }
  return {
    name: 'R2 Talker demo head',
    config,
    camera,
    tensors: new Map(tensors.map((t) => [t.name, t])),
    // The statistics of the demo's own talking track: a template-space generator (the default
    // one) is retargeted onto the demo face with them, so speech opens this mouth as far as the
    // demo track does.
    landmarkStats: trackStats(demoLandmarkTrack(STATS_FRAMES), STATS_FRAMES),
    generator: null,
    provenance: { source: 'synthetic', generator: 'worker/avatar/synthetic.ts', description: 'hand-constructed demo head; mouth opens with inner-lip landmarks 62/66' },
  };
}

const STATS_FRAMES = 250;

function trackStats(track: Float32Array, frames: number): LandmarkStats {
  const { mean, std } = landmarkStatistics(track, frames, 68 * 3);
  return { mean, std, frames };
}

/**
 * A talking landmark track for the demo ([T,68,3] float32 at 25 fps, landmark offsets x10):
 * syllable-rate lip opening, a jaw that follows it, and small deterministic jitter so that
 * every coordinate has a non-zero spread (the per-number statistics divide by it).
 */
export function demoLandmarkTrack(frames = 100): Float32Array {
  const out = new Float32Array(frames * 68 * 3);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.004;
  for (let t = 0; t < frames; t++) {
    const s = t / 25;
    const envelope = Math.max(0, Math.sin((2 * Math.PI * s) / 2.4)) ** 0.5; // phrases and pauses
    const open = 0.16 * envelope * Math.max(0, Math.sin(2 * Math.PI * 3.2 * s)) ** 0.7;
    for (let lm = 0; lm < 68; lm++) {
      const o = (t * 68 + lm) * 3;
      out[o] = rand();
      out[o + 1] = rand();
      out[o + 2] = rand();
      if ((lm >= 61 && lm <= 63) || (lm >= 49 && lm <= 53)) out[o + 1] += open / 2;
      if ((lm >= 65 && lm <= 67) || (lm >= 55 && lm <= 59)) out[o + 1] -= open / 2;
      if (lm >= 5 && lm <= 11) out[o + 1] -= open * 0.4;
    }
  }
  return out;
}
