/**
 * Where the built-in avatar's lips are in a render, from the avatar's own landmarks: the
 * built-in avatar is trained on a synthetic subject (worker/synth), whose landmark input is its
 * head-frame landmarks minus a fixed template, x CONDITION_SCALE. Undo that, move the points into
 * the renderer's world (nerf_matrix_to_ngp: axes y, z, x, scale 4) and project them through the
 * render's pose and camera.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CameraConfig } from '../../worker/avatar/config.ts';
import type { LandmarkStats } from '../../worker/avatar/types.ts';
import { readWav } from '../../worker/io/wav.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';
import { CONDITION_SCALE, conditionTemplate } from '../../worker/synth/generate.ts';

const template = conditionTemplate();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Pixel position (column, row) of landmark `lm` of a landmark frame, seen from `pose` (renderer c2w, row-major 4x4). */
export function projectLandmark(frame: Float32Array, lm: number, pose: Float32Array, cam: CameraConfig): [number, number] {
  const p = [0, 1, 2].map((k) => frame[lm * 3 + k] / CONDITION_SCALE + template[lm * 3 + k]);
  const v = [p[1] * 4 - pose[3], p[2] * 4 - pose[7], p[0] * 4 - pose[11]];
  const c = [0, 1, 2].map((k) => pose[k] * v[0] + pose[4 + k] * v[1] + pose[8 + k] * v[2]);
  return [(cam.fx * c[0]) / c[2] + cam.cx, (cam.fy * c[1]) / c[2] + cam.cy];
}

/** Pixel box around the outer lips (iBUG 48-59) of every frame given, grown by `pad` of its size on each side. */
export function lipsBox(frames: Float32Array[], pose: Float32Array, cam: CameraConfig, pad = 0.25): { x0: number; y0: number; x1: number; y1: number } {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of frames) {
    for (let lm = 48; lm < 60; lm++) {
      const [x, y] = projectLandmark(f, lm, pose, cam);
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  const [px, py] = [(x1 - x0) * pad, (y1 - y0) * pad];
  return { x0: x0 - px, y0: y0 - py, x1: x1 + px, y1: y1 + py };
}

/**
 * The landmark frames the default generator gives an avatar (retargeted with `stats`) for the
 * bundled demo sentence: the most open and the most closed mouth (inner-lip gap 62-66). What
 * speech really does to the avatar's input, rather than a hand-made opening its conditioning
 * never saw (in the training video the lips never part without the jaw and chin following).
 */
export function speechExtremes(stats: LandmarkStats): { open: Float32Array; closed: Float32Array } {
  const generator = generatorFromOnnx(new Uint8Array(readFileSync(join(ROOT, 'assets/generator/default.onnx'))));
  const wav = readWav(new Uint8Array(readFileSync(join(ROOT, 'assets/demo/sentence.wav'))));
  const r = predictLandmarks(generator, wav.samples, wav.sampleRate, stats);
  const n = stats.mean.length;
  const gap = (t: number) => r.landmarks[t * n + 62 * 3 + 1] - r.landmarks[t * n + 66 * 3 + 1];
  let [hi, lo] = [0, 0];
  for (let t = 1; t < r.frames; t++) {
    if (gap(t) > gap(hi)) hi = t;
    if (gap(t) < gap(lo)) lo = t;
  }
  return { open: r.landmarks.slice(hi * n, (hi + 1) * n), closed: r.landmarks.slice(lo * n, (lo + 1) * n) };
}
