/**
 * What the far end should see, computed in Node with the engine's own code: the built-in
 * avatar (assets/avatars/builtin.r2t, what the engine shows when no avatar is chosen) rendered
 * by the CPU reference at 64x64 (the size the e2e tests render at), its mouth box, the speech
 * fixture (espeak-ng), and signal tools for measuring A/V offsets.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadBuiltinAvatar } from '../../../worker/avatar/builtin.node.ts';
import { readWav } from '../../../worker/io/wav.ts';
import { generatorFromOnnx } from '../../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../../worker/landmarks/stream.ts';
import { computeFilm, LandmarkConditioner } from '../../../worker/model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../../../worker/model/cpu-renderer.ts';
import { normaliseClamp } from '../../../worker/model/landmarks.ts';
import { smoothEye, smoothPoses } from '../../../worker/model/poses.ts';
import { loadModelWeights } from '../../../worker/model/weights.ts';
import { downscaleAvatar } from '../../../worker/engine/cpu-reference-renderer.ts';
import { lipsBox, speechExtremes } from '../../helpers/builtin-mouth.ts';
import { ROOT } from './browser.ts';

export const RENDER_SIDE = 64;
const NUMBERS = 204;

const builtin = await loadBuiltinAvatar();
const avatar = downscaleAvatar(builtin, builtin.camera.width / RENDER_SIDE);
const weights = loadModelWeights(avatar);
const stats = builtin.landmarkStats!;
const generator = generatorFromOnnx(new Uint8Array(readFileSync(path.join(ROOT, 'assets/generator/default.onnx'))));

/** The built-in avatar at 64x64 for a constant landmark frame (what a steady input converges to), first pose, eyes as the engine shows them without blinks. */
export function renderSteady(frame: Float32Array): Uint8ClampedArray {
  const window = weights.config.condition.window;
  const points = new Float32Array(window * NUMBERS);
  const norm = new Float32Array(NUMBERS);
  normaliseClamp(frame, stats, norm);
  for (let j = 0; j < window; j++) points.set(norm, j * NUMBERS);
  const cond = new LandmarkConditioner(weights, stats);
  const { film1, film2 } = computeFilm(weights, cond.code(points));
  const poses = avatar.tensors.get('poses')!.data as Float32Array;
  const eye = smoothEye(avatar.tensors.get('eye')?.data as Float32Array | undefined, poses.length / 16, 0);
  const r = new CpuRenderer(weights, avatar.camera).render({ film1, film2, pose: firstPose(), eye });
  return toRgba8(r.image, r.width, r.height);
}

/** The pose the engine shows without idle head motion: the first of the smoothed track. */
function firstPose(): Float32Array {
  const poses = avatar.tensors.get('poses')!.data as Float32Array;
  return smoothPoses(poses, poses.length / 16, 3).slice(0, 16);
}

/** The generator's (retargeted) landmarks for `seconds` of digital silence: its last frame. */
export function silenceFrame(seconds = 2): Float32Array {
  const r = predictLandmarks(generator, new Float32Array(Math.round(seconds * 48000)), 48000, stats);
  return r.landmarks.slice((r.frames - 1) * NUMBERS, r.frames * NUMBERS);
}

/**
 * The generator's widest mouth on the bundled sentence: a speech-shaped opening (jaw and chin
 * following the lips), as the avatar's conditioning saw in training.
 */
export function widestFrame(): Float32Array {
  return speechExtremes(stats).open;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The lips' box (fractions of the 64x64 render) around the silent and the widest mouth, from
 * the avatar's own landmarks: the pixels an opening changes also include the jaw line moving,
 * which is not the mouth. Throws unless the widest mouth darkens the box (the open mouth is a
 * dark band, which is what the lip-sync tests measure).
 */
export function mouthBox(): Box {
  const sil = silenceFrame();
  const open = widestFrame();
  const px = lipsBox([sil, open], firstPose(), avatar.camera);
  const box = { x0: px.x0 / RENDER_SIDE, y0: px.y0 / RENDER_SIDE, x1: px.x1 / RENDER_SIDE, y1: px.y1 / RENDER_SIDE };
  const drop = boxLumaOfRender(renderSteady(sil), box) - boxLumaOfRender(renderSteady(open), box);
  if (!(drop > 5)) throw new Error(`the widest mouth darkens the lips box by ${drop.toFixed(1)} levels: the built-in avatar is not what the reference thinks`);
  return box;
}

/** Mean luma (0..255) of a 64x64 render inside a box given in fractions. */
export function boxLumaOfRender(rgba: Uint8ClampedArray, b: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < RENDER_SIDE; y++) {
    for (let x = 0; x < RENDER_SIDE; x++) {
      const [u, v] = [(x + 0.5) / RENDER_SIDE, (y + 0.5) / RENDER_SIDE];
      if (u < b.x0 || u > b.x1 || v < b.y0 || v > b.y1) continue;
      const i = (y * RENDER_SIDE + x) * 4;
      sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/** Maps a box of the square render to the output frame, which shows it scaled to cover (cropped). */
export function coverBox(b: Box, outW: number, outH: number): Box {
  const scale = Math.max(outW, outH); // a square source covering outW x outH
  const ox = (scale - outW) / 2 / scale;
  const oy = (scale - outH) / 2 / scale;
  const fx = scale / outW;
  const fy = scale / outH;
  return { x0: (b.x0 - ox) * fx, x1: (b.x1 - ox) * fx, y0: (b.y0 - oy) * fy, y1: (b.y1 - oy) * fy };
}

/** Writes the fake-mic file: a spoken sentence, then `silence` seconds of digital silence (Chromium loops it). */
export function makeSpeechWav(dir: string, silence = 4): string {
  const raw = path.join(dir, 'espeak.wav');
  const out = path.join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-s', '150', '-w', raw, 'Hello there. Please look at my mouth while I am talking to you.']);
  execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', out, 'pad', '0', String(silence)]);
  return out;
}

/** The generator's mouth opening (25 fps) and the RMS envelope (100 Hz) of a wav, for the model's own offset. */
export function modelSignals(wavPath: string): { opening: number[]; envelope: number[] } {
  const w = readWav(new Uint8Array(readFileSync(wavPath)));
  const r = predictLandmarks(generator, w.samples, w.sampleRate, stats);
  const opening: number[] = [];
  for (let t = 0; t < r.frames; t++) opening.push(r.landmarks[t * NUMBERS + 62 * 3 + 1] - r.landmarks[t * NUMBERS + 66 * 3 + 1]);
  const hop = w.sampleRate / 100;
  const envelope: number[] = [];
  for (let i = 0; i + hop <= w.samples.length; i += hop) {
    let s = 0;
    for (let j = 0; j < hop; j++) s += w.samples[i + j] ** 2;
    envelope.push(Math.sqrt(s / hop));
  }
  return { opening, envelope };
}

/** Sample-and-hold resampling of [time ms, value] pairs onto a grid from t0 in `step` ms. */
export function holdResample(points: [number, number][], t0: number, n: number, step = 10): number[] {
  const out: number[] = [];
  let j = 0;
  for (let k = 0; k < n; k++) {
    const t = t0 + k * step;
    while (j + 1 < points.length && points[j + 1][0] <= t) j++;
    out.push(points[j][1]);
  }
  return out;
}

/** 25 fps values -> 10 ms grid (hold). */
export function upsample25(values: number[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < values.length * 4; k++) out.push(values[Math.floor(k / 4)]);
  return out;
}

/** Index ranges (on the 10 ms grid) where the envelope stays below `thr` for at least `minLen` samples. */
export function quietRuns(env: number[], thr: number, minLen: number): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= env.length; i++) {
    const quiet = i < env.length && env[i] < thr;
    if (quiet && start < 0) start = i;
    if (!quiet && start >= 0) {
      if (i - start >= minLen) runs.push([start, i]);
      start = -1;
    }
  }
  return runs;
}
