/**
 * What the far end should see, computed in Node with the engine's own code: the built-in
 * demo head rendered by the CPU reference at 64x64 (the size the e2e tests render at), its
 * mouth box, the speech fixture (espeak-ng), and signal tools for measuring A/V offsets.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { demoLandmarkTrack, makeDemoAvatar } from '../../../worker/avatar/synthetic.ts';
import { readWav } from '../../../worker/io/wav.ts';
import { generatorFromOnnx } from '../../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../../worker/landmarks/stream.ts';
import { computeFilm, LandmarkConditioner } from '../../../worker/model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../../../worker/model/cpu-renderer.ts';
import { landmarkStatistics, normaliseClamp } from '../../../worker/model/landmarks.ts';
import { DEFAULT_EYE, smoothPoses } from '../../../worker/model/poses.ts';
import { loadModelWeights } from '../../../worker/model/weights.ts';
import { downscaleAvatar } from '../../../worker/engine/cpu-reference-renderer.ts';
import { ROOT } from './browser.ts';

export const RENDER_SIDE = 64;
const NUMBERS = 204;

const avatar = downscaleAvatar(makeDemoAvatar(), 256 / RENDER_SIDE);
const weights = loadModelWeights(avatar);
const stats = { ...landmarkStatistics(demoLandmarkTrack(100), 100, NUMBERS), frames: 100 };
const generator = generatorFromOnnx(new Uint8Array(readFileSync(path.join(ROOT, 'assets/generator/default.onnx'))));

/** The demo head at 64x64 for a constant landmark frame (what a steady input converges to). */
export function renderSteady(frame: Float32Array): Uint8ClampedArray {
  const window = weights.config.condition.window;
  const points = new Float32Array(window * NUMBERS);
  const norm = new Float32Array(NUMBERS);
  normaliseClamp(frame, stats, norm);
  for (let j = 0; j < window; j++) points.set(norm, j * NUMBERS);
  const cond = new LandmarkConditioner(weights, stats);
  const { film1, film2 } = computeFilm(weights, cond.code(points));
  const poses = avatar.tensors.get('poses')!.data as Float32Array;
  const pose = smoothPoses(poses, poses.length / 16, 3).slice(0, 16);
  const r = new CpuRenderer(weights, avatar.camera).render({ film1, film2, pose, eye: DEFAULT_EYE });
  return toRgba8(r.image, r.width, r.height);
}

/** The generator's (retargeted) landmarks for `seconds` of digital silence: its last frame. */
export function silenceFrame(seconds = 2): Float32Array {
  const r = predictLandmarks(generator, new Float32Array(Math.round(seconds * 48000)), 48000, stats);
  return r.landmarks.slice((r.frames - 1) * NUMBERS, r.frames * NUMBERS);
}

/** The silence frame with the inner lips opened by `open` (the demo's landmark convention). */
export function openedFrame(base: Float32Array, open: number): Float32Array {
  const f = Float32Array.from(base);
  for (let lm = 0; lm < 68; lm++) {
    if ((lm >= 61 && lm <= 63) || (lm >= 49 && lm <= 53)) f[lm * 3 + 1] += open / 2;
    if ((lm >= 65 && lm <= 67) || (lm >= 55 && lm <= 59)) f[lm * 3 + 1] -= open / 2;
  }
  return f;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding box (fractions of the 64x64 render) of the pixels an open mouth changes. */
export function mouthBoxOfRender(closed: Uint8ClampedArray, open: Uint8ClampedArray): Box {
  let x0 = RENDER_SIDE, y0 = RENDER_SIDE, x1 = -1, y1 = -1;
  for (let y = 0; y < RENDER_SIDE; y++) {
    for (let x = 0; x < RENDER_SIDE; x++) {
      const i = (y * RENDER_SIDE + x) * 4;
      const d = Math.abs(closed[i] - open[i]) + Math.abs(closed[i + 1] - open[i + 1]) + Math.abs(closed[i + 2] - open[i + 2]);
      if (d > 30) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  if (x1 < 0) throw new Error('the open mouth changes no pixel: the demo head is not what the reference thinks');
  return { x0: x0 / RENDER_SIDE, y0: y0 / RENDER_SIDE, x1: x1 / RENDER_SIDE, y1: y1 / RENDER_SIDE };
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
