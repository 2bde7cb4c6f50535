/**
 * What a trained avatar's mouth should do, from the avatar alone, with the engine's CPU
 * reference: its own generator's landmarks for silence (closed) and for the frame of `speech`
 * that moves the mouth points furthest from that (open), each rendered steadily at the side the
 * e2e tests render at; where the two renders differ is the mouth box, and their mean luma
 * difference inside it is how much the far end should see the mouth change.
 */
import type { Avatar } from '../../../worker/avatar/types.ts';
import { downscaleAvatar } from '../../../worker/engine/cpu-reference-renderer.ts';
import { generatorFromOnnx } from '../../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../../worker/landmarks/stream.ts';
import { computeFilm, LandmarkConditioner } from '../../../worker/model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../../../worker/model/cpu-renderer.ts';
import { normaliseClamp } from '../../../worker/model/landmarks.ts';
import { DEFAULT_EYE, smoothPoses } from '../../../worker/model/poses.ts';
import { loadModelWeights } from '../../../worker/model/weights.ts';
import type { Box } from './reference.ts';

const NUMBERS = 204;

export interface MouthExpectation {
  side: number;
  closed: Uint8ClampedArray;
  open: Uint8ClampedArray;
  /** where the renders differ (fractions of the square render) */
  box: Box;
  /** mean |luma(open) - luma(closed)| over the box, /255 */
  change: number;
  /** |mean luma(open) - mean luma(closed)| over the box: what a far end measuring the box's mean sees */
  lumaShift: number;
  /**
   * the largest |luma(open) - luma(closed)| of any pixel, /255: the box is where pixels differ
   * by more than 4 levels, so with none `change` is 0 whatever is below that, and this says how
   * far below it is
   */
  maxDiff: number;
}

const luma = (px: ArrayLike<number>, i: number) => 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];

export function mouthExpectation(avatar: Avatar, speech: Float32Array, sampleRate: number, side = 64): MouthExpectation {
  if (!avatar.generator) throw new Error(`${avatar.name}: no generator embedded`);
  if (avatar.camera.width !== avatar.camera.height) throw new Error('expected a square avatar');
  const small = downscaleAvatar(avatar, avatar.camera.width / side);
  const weights = loadModelWeights(small);
  const stats = avatar.landmarkStats;
  if (!stats) throw new Error(`${avatar.name}: no landmark statistics`);
  const g = generatorFromOnnx(avatar.generator);
  const silent = predictLandmarks(g, new Float32Array(2 * sampleRate), sampleRate, stats);
  const closedFrame = silent.landmarks.slice((silent.frames - 1) * NUMBERS, silent.frames * NUMBERS);
  const spoken = predictLandmarks(g, speech, sampleRate, stats);
  let best = -1;
  let openFrame = closedFrame;
  for (let t = 0; t < spoken.frames; t++) {
    let d = 0;
    for (let k = 48 * 3; k < NUMBERS; k++) d += (spoken.landmarks[t * NUMBERS + k] - closedFrame[k]) ** 2;
    if (d > best) {
      best = d;
      openFrame = spoken.landmarks.slice(t * NUMBERS, (t + 1) * NUMBERS);
    }
  }
  const poses = small.tensors.get('poses')!.data as Float32Array;
  const pose = smoothPoses(poses, poses.length / 16, 3).slice(0, 16);
  const renderer = new CpuRenderer(weights, small.camera);
  const render = (frame: Float32Array) => {
    const window = weights.config.condition.window;
    const norm = new Float32Array(NUMBERS);
    normaliseClamp(frame, stats, norm);
    const points = new Float32Array(window * NUMBERS);
    for (let j = 0; j < window; j++) points.set(norm, j * NUMBERS);
    const { film1, film2 } = computeFilm(weights, new LandmarkConditioner(weights, stats).code(points));
    const r = renderer.render({ film1, film2, pose, eye: DEFAULT_EYE });
    return toRgba8(r.image, r.width, r.height);
  };
  const closed = render(closedFrame);
  const open = render(openFrame);
  let x0 = side, y0 = side, x1 = -1, y1 = -1;
  let maxDiff = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 4;
      maxDiff = Math.max(maxDiff, Math.abs(luma(open, i) - luma(closed, i)));
      if (Math.abs(luma(open, i) - luma(closed, i)) > 4) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  if (x1 < 0) return { side, closed, open, box: { x0: 0, y0: 0, x1: 1, y1: 1 }, change: 0, lumaShift: 0, maxDiff };
  let sum = 0;
  let signed = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const d = luma(open, (y * side + x) * 4) - luma(closed, (y * side + x) * 4);
      sum += Math.abs(d);
      signed += d;
    }
  }
  const n = (x1 - x0) * (y1 - y0);
  return { side, closed, open, box: { x0: x0 / side, y0: y0 / side, x1: x1 / side, y1: y1 / side }, change: sum / n, lumaShift: Math.abs(signed) / n, maxDiff };
}

export interface GeneratorMouthMotion {
  /** mean distance of the mouth points from their silent pose over the speaking frames, in the avatar's landmark std units */
  speech: number;
  /** the same over the silent frames */
  silence: number;
}

/**
 * How far the avatar's own generator moves the mouth for `pcm`, in units of the avatar's
 * landmark standard deviations (its NeRF's conditioning is normalised by them, so 1 is the
 * person's own typical mouth movement). `silent` and `speaking` name frame ranges of `pcm`
 * (25 fps) that are silence and speech.
 */
export function generatorMouthMotion(avatar: Avatar, pcm: Float32Array, sampleRate: number, silent: [number, number], speaking: (t: number) => boolean): GeneratorMouthMotion {
  if (!avatar.generator || !avatar.landmarkStats) throw new Error(`${avatar.name}: no generator or landmark statistics embedded`);
  const { std } = avatar.landmarkStats;
  const r = predictLandmarks(generatorFromOnnx(avatar.generator), pcm, sampleRate, avatar.landmarkStats);
  const mouth = (t: number, k: number) => r.landmarks[t * NUMBERS + k] / std[k];
  const rest = new Float64Array(NUMBERS);
  for (let t = silent[0]; t < silent[1]; t++) for (let k = 48 * 3; k < NUMBERS; k++) rest[k] += mouth(t, k) / (silent[1] - silent[0]);
  const dev = (t: number) => {
    let s = 0;
    for (let k = 48 * 3; k < NUMBERS; k++) s += (mouth(t, k) - rest[k]) ** 2;
    return Math.sqrt(s / (NUMBERS - 48 * 3));
  };
  let speech = 0;
  let n = 0;
  for (let t = 0; t < r.frames; t++) {
    if (speaking(t)) {
      speech += dev(t);
      n++;
    }
  }
  let silence = 0;
  for (let t = silent[0]; t < silent[1]; t++) silence += dev(t);
  return { speech: speech / Math.max(1, n), silence: silence / (silent[1] - silent[0]) };
}

/**
 * Where on the frame the avatar's mouth moves: the window (w x h, fractions of the square render)
 * where its open and closed renders differ most. A bounding box of every changed pixel is not:
 * the landmarks shade the whole face a little, so the changed pixels span the head, and a stray
 * pixel at the edge stretches the box further; the mouth is where they change most.
 */
export function mouthWindow(m: MouthExpectation, w = 0.1875, h = 0.125): Box {
  const { side, open, closed } = m;
  const bw = Math.max(1, Math.round(w * side));
  const bh = Math.max(1, Math.round(h * side));
  let best = -1;
  let bx = 0;
  let by = 0;
  for (let y = 0; y + bh <= side; y++) {
    for (let x = 0; x + bw <= side; x++) {
      let d = 0;
      for (let yy = y; yy < y + bh; yy++) for (let xx = x; xx < x + bw; xx++) d += Math.abs(luma(open, (yy * side + xx) * 4) - luma(closed, (yy * side + xx) * 4));
      if (d > best) [best, bx, by] = [d, x, y];
    }
  }
  return { x0: bx / side, y0: by / side, x1: (bx + bw) / side, y1: (by + bh) / side };
}
