/**
 * The synthetic subject generator: a procedural person who belongs to no one (seeded
 * proportions, skin, hair, eyes, shirt), talking (speech-like mouth motion, blinks) with
 * gentle head motion in front of a fixed camera, rendered by the CPU ray caster and written in
 * the reference subject layout through SubjectWriter, plus `ground_truth/` with the exact
 * poses, landmarks and class masks. Deterministic: same options, same bytes.
 */
import { FormatError, R2TalkerError } from '../errors.ts';
import { mulberry32 } from '../util/random.ts';
import { writeNpy } from '../io/npy.ts';
import { writeWav } from '../io/wav.ts';
import type { SubjectImage } from '../subject/images.ts';
import { PARSING_RGB } from '../subject/layout.ts';
import { eyeAspectRatio } from '../subject/lms.ts';
import { SubjectWriter, referenceValStart } from '../subject/writer.ts';
import { headRotation, headToWorld, makeCamera, projectWorld, transformMatrix, type SynthCamera } from './camera.ts';
import { NEUTRAL, landmarks3d, makeIdentity } from './face.ts';
import { makeMotion, type MotionFrame } from './motion.ts';
import { GT_CLASS } from './paint.ts';
import type { RenderedFrame } from './render-frame.ts';
import { makeScene, renderSceneFrame, type SynthScene } from './scene.ts';

export const FPS = 25;
/** The condition is (landmarks - a fixed template) x 10, like the reference's idexp landmarks (BFM offsets x 10). */
export const CONDITION_SCALE = 10;
const TEMPLATE_SEED = 0;

/**
 * The fixed template the condition is measured from: a synthetic avatar's landmarks in its head
 * frame are condition / CONDITION_SCALE + conditionTemplate() (68 x 3, x right, y up, z out).
 */
export function conditionTemplate(): Float32Array {
  return Float32Array.from(landmarks3d(makeIdentity(TEMPLATE_SEED), NEUTRAL));
}
/**
 * The condition carries a tracker's jitter (sigma in head units, ~0.05 px at 128 px): rigid
 * points such as the nose bridge would otherwise have zero spread over the video, and the
 * reference divides each coordinate by its standard deviation. The 2-D .lms and the ground
 * truth stay exact.
 */
export const TRACKER_NOISE = 2e-4;

/** Standard normal draw (Box-Muller) from a uniform source. */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface SynthOptions {
  /** Square image side, even, 32..1024 (default 128). */
  size?: number;
  /** Number of frames at 25 fps, 12..100000 (default 250). */
  frames?: number;
  seed?: number;
  /** Validation frames at the end (default: the reference split, the last 1/11). */
  valFrames?: number;
  /** Head motion scale (default 1, 0 = still head). */
  headMotion?: number;
  /** Framing: 1 (default) head and shoulders; up to 2 closer (camera.ts makeCamera). */
  zoom?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SynthSummary {
  size: number;
  frames: number;
  valStart: number;
  focal: number;
  seed: number;
}

function intOption(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw FormatError.input(`synth.${name}`, `expected an integer in [${min}, ${max}], got ${v}`);
  return v;
}

function parsingImage(labels: Uint8Array, size: number): SubjectImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const c = l === GT_CLASS.background ? PARSING_RGB.background : l === GT_CLASS.neck ? PARSING_RGB.neck : l === GT_CLASS.torso ? PARSING_RGB.torso : PARSING_RGB.head;
    data.set(c, i * 3);
  }
  return { width: size, height: size, channels: 3, data };
}

/** A voiced buzz whose loudness follows the mouth opening: lets audio-driven tests check sync. */
function speechLikeAudio(motion: MotionFrame[], seed: number): Float32Array {
  const rate = 16000;
  const perFrame = rate / FPS;
  const out = new Float32Array(motion.length * perFrame);
  const f0 = 110 + (seed % 7) * 12;
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / perFrame;
    const k = Math.min(motion.length - 1, Math.floor(t));
    const next = Math.min(motion.length - 1, k + 1);
    const env = motion[k].expression.open + (motion[next].expression.open - motion[k].expression.open) * (t - k);
    phase += (2 * Math.PI * f0 * (1 + 0.05 * Math.sin(i / 4000))) / rate;
    let s = 0;
    for (let h = 1; h <= 12; h++) s += Math.sin(h * phase) * (h === 3 || h === 6 ? 1.4 : 1) / h;
    out[i] = 0.25 * env * s;
  }
  return out;
}

/** Renders frame k of a scene; the default renders in this thread, frame-pool.node.ts in worker threads. */
export type FrameSource = (scene: SynthScene, k: number, m: MotionFrame) => Promise<RenderedFrame>;

const inThread: FrameSource = (scene, _k, m) => Promise.resolve(renderSceneFrame(scene, m));

export async function generateSubject(writer: SubjectWriter, cam: SynthCamera, options: SynthOptions = {}, render: FrameSource = inThread, lookahead = 1): Promise<SynthSummary> {
  const size = cam.width;
  const frames = options.frames ?? 250;
  const seed = options.seed ?? 1;
  const valStart = options.valFrames === undefined ? referenceValStart(frames) : frames - intOption('valFrames', options.valFrames, 1, frames - 1);
  const scene = makeScene(cam, seed);
  const id = scene.id;
  const template = conditionTemplate();
  const motion = makeMotion(seed, frames, { headMotion: options.headMotion });
  const noise = mulberry32(seed ^ 0xc0de);
  await writer.writeBackground({ width: size, height: size, channels: 3, data: scene.background });
  // Frames render ahead (in workers when given) but are written strictly in order.
  const pending = new Map<number, Promise<RenderedFrame>>();
  const request = (k: number): void => {
    if (k < frames && !pending.has(k)) pending.set(k, render(scene, k, motion[k]));
  };
  const lms2d = new Float32Array(frames * 136);
  const lmsHead = new Float32Array(frames * 204);
  const lmsWorld = new Float32Array(frames * 204);
  const transforms = new Float64Array(frames * 16);
  const labelsAll = new Uint8Array(frames * size * size);
  for (let k = 0; k < frames; k++) {
    if (options.signal?.aborted) {
      await Promise.allSettled(pending.values());
      await writer.abort();
      throw new R2TalkerError('ABORTED', 'synthetic subject generation was cancelled; nothing was written');
    }
    for (let j = k; j < k + Math.max(1, lookahead); j++) request(j);
    const { expression, head } = motion[k];
    const lm = landmarks3d(id, expression);
    const R = headRotation(head);
    const lms = new Float32Array(136);
    for (let i = 0; i < 68; i++) {
      const w = headToWorld(head, R, lm.subarray(i * 3, i * 3 + 3));
      const [x, y] = projectWorld(cam, w);
      lms[i * 2] = x;
      lms[i * 2 + 1] = y;
      lmsWorld.set(w, k * 204 + i * 3);
    }
    lms2d.set(lms, k * 136);
    lmsHead.set(lm, k * 204);
    const transform = transformMatrix(cam, head);
    transforms.set(transform, k * 16);
    let frame: RenderedFrame;
    try {
      frame = await (pending.get(k) as Promise<RenderedFrame>);
    } catch (e) {
      await Promise.allSettled(pending.values());
      await writer.abort();
      throw e;
    }
    pending.delete(k);
    labelsAll.set(frame.labels, k * size * size);
    const condition = new Float32Array(204);
    for (let i = 0; i < 204; i++) condition[i] = (lm[i] + TRACKER_NOISE * gaussian(noise) - template[i]) * CONDITION_SCALE;
    const img: SubjectImage = { width: size, height: size, channels: 3, data: frame.rgb };
    await writer.addFrame({
      split: k < valStart ? 'train' : 'val',
      imgId: k,
      audId: k,
      transform,
      eyeRatio: eyeAspectRatio(lms),
      lms,
      condition,
      ori: img,
      gt: img,
      parsing: parsingImage(frame.labels, size),
      torso: { width: size, height: size, channels: 4, data: frame.torso },
    });
    options.onProgress?.(k + 1, frames);
  }
  const gt = 'ground_truth';
  await writer.writeFile('aud.wav', writeWav([speechLikeAudio(motion, seed)], 16000));
  await writer.writeFile(`${gt}/landmarks_2d.npy`, writeNpy({ dtype: 'float32', shape: [frames, 68, 2], data: lms2d }));
  await writer.writeFile(`${gt}/landmarks_3d_head.npy`, writeNpy({ dtype: 'float32', shape: [frames, 68, 3], data: lmsHead }));
  await writer.writeFile(`${gt}/landmarks_3d_world.npy`, writeNpy({ dtype: 'float32', shape: [frames, 68, 3], data: lmsWorld }));
  await writer.writeFile(`${gt}/transforms.npy`, writeNpy({ dtype: 'float64', shape: [frames, 4, 4], data: transforms }));
  await writer.writeFile(`${gt}/labels.npy`, writeNpy({ dtype: 'uint8', shape: [frames, size, size], data: labelsAll }));
  const meta = {
    generator: 'r2talker synth-subject',
    version: 1,
    seed,
    frames,
    fps: FPS,
    size,
    focal: cam.focal,
    cx: cam.cx,
    cy: cam.cy,
    cameraCentre: cam.centre,
    valStart,
    conditionScale: CONDITION_SCALE,
    classes: GT_CLASS,
    conventions:
      'head frame: x right, y up, z towards the camera; transform_matrix = camera-to-head with OpenGL camera axes (the reference convention); ' +
      'landmarks_2d: x = column, y = row, pixel centres on integers; labels: per-pixel class at the pixel centre (see classes)',
    motion: motion.map((m) => ({ ...m.expression, ...m.head })),
  };
  await writer.writeFile(`${gt}/meta.json`, new TextEncoder().encode(JSON.stringify(meta)));
  await writer.finish();
  return { size, frames, valStart, focal: cam.focal, seed };
}

/** Validates options and builds the camera; call before opening the output so bad options write nothing. */
export function synthCamera(options: SynthOptions): SynthCamera {
  const size = intOption('size', options.size ?? 128, 32, 1024);
  if (size % 2 !== 0) throw FormatError.input('synth.size', `expected an even size (cx = cy = size/2), got ${size}`);
  const frames = intOption('frames', options.frames ?? 250, 12, 100000);
  if (options.valFrames !== undefined) intOption('valFrames', options.valFrames, 1, frames - 1);
  intOption('seed', options.seed ?? 1, 0, 0xffffffff);
  if (options.headMotion !== undefined && !(options.headMotion >= 0 && options.headMotion <= 4)) throw FormatError.input('synth.headMotion', `expected a number in [0, 4], got ${options.headMotion}`);
  const zoom = options.zoom ?? 1;
  if (!(zoom >= 1 && zoom <= 2)) throw FormatError.input('synth.zoom', `expected a number in [1, 2], got ${zoom}`);
  return makeCamera(size, size, zoom);
}
