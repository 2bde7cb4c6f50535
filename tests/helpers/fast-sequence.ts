/**
 * A talking sequence with head motion for fast-mode tests and the bench: the built-in demo head
 * (its mouth opens with the inner-lip landmarks) at a chosen image size, its talking landmark
 * track and its pose track (yaw and pitch sweeps), prepared frame by frame as the reference does.
 */
import type { Avatar } from '../../worker/avatar/types.ts';
import { demoLandmarkTrack, makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import type { FrameInput } from '../../worker/model/cpu-renderer.ts';
import { prepareFrames } from '../../worker/model/track.ts';
import { boxPixels, projectedBox } from '../../worker/model/speech-region.ts';
import { MOUTH_PAD } from '../../worker/metrics/mouth.ts';
import { loadModelWeights, type ModelWeights } from '../../worker/model/weights.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { surfacePoints } from '../../worker/model/fast-reproject.ts';

/** The demo avatar with its camera and background scaled to size x size (nearest-neighbour background). */
export function demoAvatarAt(size: number): Avatar {
  const av = makeDemoAvatar();
  const src = av.tensors.get('background')!;
  const S = src.shape[0];
  const from = src.data as Uint8Array;
  const bg = new Uint8Array(size * size * 3);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++)
      for (let k = 0; k < 3; k++) bg[(r * size + c) * 3 + k] = from[(Math.floor((r * S) / size) * S + Math.floor((c * S) / size)) * 3 + k];
  const k = size / av.camera.width;
  av.tensors.set('background', { name: 'background', dtype: 'uint8', shape: [size, size, 3], data: bg });
  av.camera = { fx: av.camera.fx * k, fy: av.camera.fy * k, cx: size / 2, cy: size / 2, width: size, height: size };
  return av;
}

export interface TalkingSequence {
  avatar: Avatar;
  weights: ModelWeights;
  frames: FrameInput[];
}

/** `frames` frames at 25 fps of the demo talking track over the demo pose track (ping-pong). */
export function talkingSequence(size: number, frames: number): TalkingSequence {
  const avatar = demoAvatarAt(size);
  const weights = loadModelWeights(avatar);
  const poses = avatar.tensors.get('poses')!.data as Float32Array;
  const track = demoLandmarkTrack(frames);
  return { avatar, weights, frames: [...prepareFrames(weights, poses, poses.length / 16, track, frames)] };
}

/** PSNR in dB of a against b (values in [0, 1]) over the pixels of `mask` (all when absent). */
export function psnr(a: Float32Array, b: Float32Array, mask?: ArrayLike<number>): number {
  let se = 0;
  let n = 0;
  const pixels = mask ?? Array.from({ length: a.length / 3 }, (_, i) => i);
  for (let j = 0; j < pixels.length; j++) {
    const p = pixels[j];
    for (let k = 0; k < 3; k++) {
      const d = a[p * 3 + k] - b[p * 3 + k];
      se += d * d;
      n++;
    }
  }
  return se === 0 ? Infinity : -10 * Math.log10(se / n);
}

/**
 * Row-major pixel indices of the demo head's mouth region seen from `pose`: the image box around
 * the projected corners of a box around the lips (field space x +-0.26, y -0.3 +-0.12, z 0.3..0.65)
 * in the demo's camera convention (pose columns: camera right, down, forward in world space).
 */
export function demoMouthPixels(pose: Float32Array, camera: { fx: number; fy: number; cx: number; cy: number; width: number; height: number }): number[] {
  let r0 = Infinity;
  let r1 = -Infinity;
  let c0 = Infinity;
  let c1 = -Infinity;
  for (const x of [-0.26, 0.26])
    for (const y of [-0.42, -0.18])
      for (const z of [0.3, 0.65]) {
        const v = [x - pose[3], y - pose[7], z - pose[11]];
        const cam = [0, 1, 2].map((k) => pose[k] * v[0] + pose[4 + k] * v[1] + pose[8 + k] * v[2]);
        const col = (camera.fx * cam[0]) / cam[2] + camera.cx;
        const row = (camera.fy * cam[1]) / cam[2] + camera.cy;
        r0 = Math.min(r0, row);
        r1 = Math.max(r1, row);
        c0 = Math.min(c0, col);
        c1 = Math.max(c1, col);
      }
  const out: number[] = [];
  for (let r = Math.max(0, Math.floor(r0)); r <= Math.min(camera.height - 1, Math.ceil(r1)); r++)
    for (let c = Math.max(0, Math.floor(c0)); c <= Math.min(camera.width - 1, Math.ceil(c1)); c++) out.push(r * camera.width + c);
  return out;
}

/**
 * Camera-to-world pose `pose` orbited about the world origin (where the head field sits) by `yaw`
 * about the camera's down axis and `pitch` about its right axis: the head turns in the image.
 */
export function orbitPose(pose: Float32Array, yaw: number, pitch: number): Float32Array {
  const axisRot = (axis: number[], a: number): number[] => {
    const [x, y, z] = axis;
    const c = Math.cos(a);
    const s = Math.sin(a);
    const t = 1 - c;
    return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
  };
  const col = (k: number) => {
    const v = [pose[k], pose[4 + k], pose[8 + k]];
    const l = Math.hypot(v[0], v[1], v[2]);
    return v.map((x) => x / l);
  };
  const mul = (a: number[], b: number[]) => Array.from({ length: 9 }, (_, i) => a[Math.floor(i / 3) * 3] * b[i % 3] + a[Math.floor(i / 3) * 3 + 1] * b[3 + (i % 3)] + a[Math.floor(i / 3) * 3 + 2] * b[6 + (i % 3)]);
  const R = mul(axisRot(col(1), yaw), axisRot(col(0), pitch));
  const out = new Float32Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) out[r * 4 + c] = R[r * 3] * pose[c] + R[r * 3 + 1] * pose[4 + c] + R[r * 3 + 2] * pose[8 + c];
  }
  out[15] = 1;
  return out;
}

/**
 * Head motion of the trained-avatar sequences, radians at frame t (25 fps): a slow yaw sway
 * (0.1 rad, 4 s period) and nod (0.04 rad), and a fast head turn of 0.12 rad within 0.2 s
 * (and back) every 3.2 s: the frames right after it are fast mode's disocclusion case.
 */
export function headMotion(t: number): { yaw: number; pitch: number } {
  const s = t / 25;
  const phase = s % 3.2;
  const turn = phase < 1.6 ? Math.min(1, Math.max(0, (phase - 1.2) / 0.2)) : Math.max(0, 1 - (phase - 2.6) / 0.2);
  return { yaw: 0.1 * Math.sin((2 * Math.PI * s) / 4) + 0.12 * Math.min(1, turn), pitch: 0.04 * Math.sin((2 * Math.PI * s) / 2.5) };
}

/**
 * Mouth opening in [0, 1] at frame t (25 fps): syllables at 3.2 Hz in phrases with pauses (the
 * demo track's envelope), so the sequence has speech onsets after silence.
 */
export function speechOpening(t: number): number {
  const s = t / 25;
  const envelope = Math.max(0, Math.sin((2 * Math.PI * s) / 2.4)) ** 0.5;
  return envelope * Math.max(0, Math.sin(2 * Math.PI * 3.2 * s)) ** 0.7;
}

/**
 * A talking sequence of a trained avatar (or any avatar): `frames` frames at 25 fps whose lips
 * open with speechOpening() (+-1.5 std of each lip landmark's height in the avatar's own
 * statistics; the demo track where the avatar has none), over the avatar's first pose orbited
 * by headMotion().
 */
export function avatarSequence(avatar: Avatar, frames: number): TalkingSequence {
  const weights = loadModelWeights(avatar);
  const stats = avatar.landmarkStats;
  let track: Float32Array;
  if (stats) {
    const numbers = stats.mean.length;
    track = new Float32Array(frames * numbers);
    for (let t = 0; t < frames; t++) {
      const open = 2 * speechOpening(t) - 1;
      for (let i = 0; i < numbers; i++) track[t * numbers + i] = stats.mean[i];
      for (const lm of [61, 62, 63, 50, 51, 52]) track[t * numbers + lm * 3 + 1] += 1.5 * open * stats.std[lm * 3 + 1];
      for (const lm of [65, 66, 67, 56, 57, 58, 8]) track[t * numbers + lm * 3 + 1] -= 1.5 * open * stats.std[lm * 3 + 1];
    }
  } else {
    track = demoLandmarkTrack(frames);
  }
  const base = (avatar.tensors.get('poses')!.data as Float32Array).slice(0, 16);
  const poses = new Float32Array(frames * 16);
  for (let t = 0; t < frames; t++) {
    const m = headMotion(t);
    poses.set(orbitPose(base, m.yaw, m.pitch), t * 16);
  }
  const st = stats ? { mean: Float32Array.from(stats.mean), std: Float32Array.from(stats.std) } : undefined;
  return { avatar, weights, frames: [...prepareFrames(weights, poses, frames, track, frames, st ? { stats: st } : {})] };
}

/**
 * World-space points of the avatar's mouth, for mouthPixelsOf(): the surface points (from
 * `surface`, 3 floats a pixel, NaN where none) of the pixels whose colour differs by more than a
 * quarter of the largest difference between `open` and `closed`, two renders from one pose.
 */
export function mouthPoints(open: Float32Array, closed: Float32Array, surface: Float32Array): Float32Array {
  const n = open.length / 3;
  const diff = new Float32Array(n);
  let max = 0;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) diff[p] = Math.max(diff[p], Math.abs(open[p * 3 + k] - closed[p * 3 + k]));
    if (diff[p] > max) max = diff[p];
  }
  const pts: number[] = [];
  for (let p = 0; p < n; p++) if (max > 0 && diff[p] > max / 4 && !Number.isNaN(surface[p * 3])) pts.push(surface[p * 3], surface[p * 3 + 1], surface[p * 3 + 2]);
  if (pts.length === 0) throw new Error('mouthPoints: the open and closed renders do not differ on any surface pixel');
  return Float32Array.from(pts);
}

/**
 * The mouth of a sequence's avatar as mouthPoints() finds it with two fast renders from one pose:
 * by default the most open and the most closed of the first 50 frames (speechOpening()) at frame
 * 0's pose, as bench/fast.ts measures mouth PSNR; `at` picks the open, closed and pose frames.
 */
export function sequenceMouthPoints(seq: TalkingSequence, at: { open: number; closed: number; pose: number } = mostOpenAndClosed(seq.frames.length)): Float32Array {
  const probe = new FastCpuRenderer(seq.weights, seq.avatar.camera);
  const pose = seq.frames[at.pose].pose;
  const open = probe.render({ ...seq.frames[at.open], pose });
  probe.reset();
  const closed = probe.render({ ...seq.frames[at.closed], pose });
  return mouthPoints(open.image, closed.image, surfacePoints(open.origins, open.directions, open.hitT));
}

function mostOpenAndClosed(frames: number): { open: number; closed: number; pose: number } {
  let open = 0;
  let closed = 0;
  for (let t = 0; t < Math.min(frames, 50); t++) {
    if (speechOpening(t) > speechOpening(open)) open = t;
    if (speechOpening(t) < speechOpening(closed)) closed = t;
  }
  return { open, closed, pose: 0 };
}

/**
 * Row-major pixel indices of the mouth region seen from `pose`: the box around the projected
 * mouth points, padded on every side by a quarter of its larger side (worker/metrics/mouth.ts's
 * MOUTH_PAD), clamped to the image.
 */
export function mouthPixelsOf(points: Float32Array, pose: Float32Array, camera: { fx: number; fy: number; cx: number; cy: number; width: number; height: number }): number[] {
  return boxPixels(projectedBox(points, pose, camera, MOUTH_PAD), camera.width);
}

/** The avatar's camera and background resampled to size x size (nearest neighbour), the view kept. */
export function resizeAvatar(av: Avatar, side: number): Avatar {
  const cam = av.camera;
  const src = av.tensors.get('background')!;
  const from = src.data as Uint8Array;
  const bg = new Uint8Array(side * side * 3);
  for (let r = 0; r < side; r++)
    for (let c = 0; c < side; c++)
      for (let k = 0; k < 3; k++) bg[(r * side + c) * 3 + k] = from[(Math.floor((r * cam.height) / side) * cam.width + Math.floor((c * cam.width) / side)) * 3 + k];
  const tensors = new Map(av.tensors);
  tensors.set('background', { name: 'background', dtype: 'uint8', shape: [side, side, 3], data: bg });
  const kx = side / cam.width;
  const ky = side / cam.height;
  return { ...av, tensors, camera: { fx: cam.fx * kx, fy: cam.fy * ky, cx: cam.cx * kx, cy: cam.cy * ky, width: side, height: side } };
}
