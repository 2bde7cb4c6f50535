/**
 * A small analytic talking-head subject for the NeRF trainer's tests, written in the
 * reference layout through worker/subject/writer.ts (so the trainer reads it with the real
 * reader): a shaded ellipsoid head whose dark mouth band opens with the landmark condition,
 * eyes, a flat torso and a gradient background, seen by a fixed camera under gently turning
 * head poses. Pixels are ray-cast exactly, in the renderer's pose convention, so a NeRF can
 * fit it; the mouth depends only on the landmarks, so what the trainer learns about the mouth
 * must come through the conditioning.
 */
import { MemorySubjectFiles, MemorySubjectSink, type SubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import type { SubjectImage } from '../../worker/subject/images.ts';
import { SubjectWriter, referenceValStart } from '../../worker/subject/writer.ts';

export interface AnalyticSubjectOptions {
  size?: number;
  frames?: number;
  seed?: number;
  /**
   * Add a neck: a skin-coloured column from mid-head down to the torso, in torso_imgs (under the
   * head too, as the reference preprocessing inpaints it) and in gt_imgs where the head does not
   * cover it (parsing: neck). Under the head it has nearly the face's colour, so a see-through
   * face costs the head stage almost nothing: the case the parsing-mask term exists for.
   */
  neck?: boolean;
}

const NECK_RGB = [0.6, 0.43, 0.35];

const HEAD = { a: 0.55, b: 0.42, c: 0.5 };
const MOUTH = { y: 0.2, halfWidth: 0.2 };
const EYES = [-0.18, 0.18];
const EYE_Y = -0.1;

/** Mouth half-height (world units) for opening o in [0, 1]. */
export function mouthHalfHeight(open: number): number {
  return 0.02 + 0.09 * open;
}

/** Opening of frame t in [0, 1]: syllable-like bursts. */
export function opening(t: number): number {
  return Math.max(0, Math.sin((2 * Math.PI * t) / 7)) ** 0.8;
}

/** Renderer-convention camera-to-world pose of frame t: orbiting the head at distance 3. */
export function subjectPose(t: number): Float32Array {
  const a = 0.12 * Math.sin(t * 0.45);
  const c = Math.cos(a);
  const s = Math.sin(a);
  // forward = R (0,0,1) = (s, 0, c); camera at -3 * forward, slightly bobbing.
  return Float32Array.from([c, 0, s, -3 * s, 0, 1, 0, 0.03 * Math.sin(t * 0.3), -s, 0, c, -3 * c, 0, 0, 0, 1]);
}

/** The reference transform_matrix whose nerf_matrix_to_ngp (scale 4) is `pose`. */
export function referenceTransform(pose: Float32Array): number[] {
  const out = new Array<number>(16).fill(0);
  // new row r = old row order[r] with columns 1, 2 negated and translation * 4.
  const order = [1, 2, 0];
  for (let r = 0; r < 3; r++) {
    const src = order[r];
    out[src * 4] = pose[r * 4];
    out[src * 4 + 1] = -pose[r * 4 + 1];
    out[src * 4 + 2] = -pose[r * 4 + 2];
    out[src * 4 + 3] = pose[r * 4 + 3] / 4;
  }
  out[15] = 1;
  return out;
}

function neutralLandmarks(open: number): number[][] {
  const h = mouthHalfHeight(open);
  const pts: number[][] = [];
  const z = -0.42;
  for (let i = 0; i < 17; i++) {
    const th = Math.PI + (Math.PI * i) / 16;
    pts.push([0.45 * Math.cos(th), -0.36 * Math.sin(th) + 0.02 * open, z + 0.1]);
  }
  for (let i = 0; i < 10; i++) pts.push([-0.3 + (0.6 * i) / 9, -0.2, z]);
  for (let i = 0; i < 4; i++) pts.push([0, -0.12 + 0.05 * i, z - 0.05]);
  for (let i = 0; i < 5; i++) pts.push([-0.06 + 0.03 * i, 0.08, z]);
  for (const ex of EYES) for (let i = 0; i < 6; i++) pts.push([ex + 0.07 * Math.cos((Math.PI * i) / 3), EYE_Y + 0.025 * Math.sin((Math.PI * i) / 3), z]);
  for (let i = 0; i < 12; i++) pts.push([MOUTH.halfWidth * Math.cos((2 * Math.PI * i) / 12), MOUTH.y + (h + 0.02) * Math.sin((2 * Math.PI * i) / 12), z]);
  for (let i = 0; i < 8; i++) pts.push([0.12 * Math.cos((2 * Math.PI * i) / 8), MOUTH.y + h * Math.sin((2 * Math.PI * i) / 8), z]);
  return pts;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function toBytes(rgb: Float64Array, channels: 3 | 4, alpha?: Float64Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out[i * channels + k] = Math.round(clamp01(rgb[3 * i + k]) * 255);
    if (channels === 4) out[i * channels + 3] = Math.round(clamp01(alpha![i]) * 255);
  }
  return out;
}

/** Renders frame t: returns the head colour and coverage per pixel, and the 2-D landmarks. */
export function renderFrame(t: number, size: number, focal: number): { rgb: Float64Array; cover: Float64Array; lms: number[] } {
  const pose = subjectPose(t);
  const open = opening(t);
  const h = mouthHalfHeight(open);
  const rgb = new Float64Array(size * size * 3);
  const cover = new Float64Array(size * size);
  const o = [pose[3], pose[7], pose[11]];
  const L = [0.3, -0.5, -1];
  const ln = Math.hypot(L[0], L[1], L[2]);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const x = (col + 0.5 - size / 2) / focal;
      const y = (row + 0.5 - size / 2) / focal;
      const inv = 1 / Math.hypot(x, y, 1);
      const dc = [x * inv, y * inv, inv];
      const d = [0, 1, 2].map((r) => pose[r * 4] * dc[0] + pose[r * 4 + 1] * dc[1] + pose[r * 4 + 2] * dc[2]);
      // Ray vs ellipsoid x^2/a^2 + y^2/b^2 + z^2/c^2 = 1.
      const s = [HEAD.a, HEAD.b, HEAD.c];
      const oo = o.map((v, k) => v / s[k]);
      const dd = d.map((v, k) => v / s[k]);
      const A = dd[0] ** 2 + dd[1] ** 2 + dd[2] ** 2;
      const B = 2 * (oo[0] * dd[0] + oo[1] * dd[1] + oo[2] * dd[2]);
      const C = oo[0] ** 2 + oo[1] ** 2 + oo[2] ** 2 - 1;
      const disc = B * B - 4 * A * C;
      if (disc <= 0) continue;
      const tt = (-B - Math.sqrt(disc)) / (2 * A);
      const p = o.map((v, k) => v + tt * d[k]);
      const n = [p[0] / (HEAD.a * HEAD.a), p[1] / (HEAD.b * HEAD.b), p[2] / (HEAD.c * HEAD.c)];
      const nn = Math.hypot(n[0], n[1], n[2]);
      const shade = 0.35 + 0.65 * Math.max(0, -(n[0] * L[0] + n[1] * L[1] + n[2] * L[2]) / (nn * ln));
      let albedo = [0.85, 0.62, 0.5];
      if (p[2] < 0) {
        if (Math.abs(p[0]) < MOUTH.halfWidth && Math.abs(p[1] - MOUTH.y) < h) albedo = [0.4, 0.05, 0.08];
        for (const ex of EYES) if ((p[0] - ex) ** 2 / 0.07 ** 2 + (p[1] - EYE_Y) ** 2 / 0.035 ** 2 < 1) albedo = [0.08, 0.08, 0.12];
      }
      const i = row * size + col;
      for (let k = 0; k < 3; k++) rgb[3 * i + k] = albedo[k] * shade;
      cover[i] = 1;
    }
  }
  // 2-D landmarks: project the 3-D points (x = column, y = row).
  const lms: number[] = [];
  for (const q of neutralLandmarks(open)) {
    const rel = [q[0] - o[0], q[1] - o[1], q[2] - o[2]];
    const c = [0, 1, 2].map((k) => pose[k] * rel[0] + pose[4 + k] * rel[1] + pose[8 + k] * rel[2]);
    lms.push(focal * (c[0] / c[2]) + size / 2, focal * (c[1] / c[2]) + size / 2);
  }
  return { rgb, cover, lms };
}

/** The landmark condition of frame t ([68*3]): offsets from the closed-mouth face, x10, plus tiny deterministic jitter. */
export function conditionOf(t: number): number[] {
  const now = neutralLandmarks(opening(t));
  const rest = neutralLandmarks(0);
  let seed = 1000 + t * 7919;
  const jitter = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.004;
  const out: number[] = [];
  for (let i = 0; i < 68; i++) for (let k = 0; k < 3; k++) out.push((now[i][k] - rest[i][k]) * 10 + jitter());
  return out;
}

export function backgroundImage(size: number): Float64Array {
  const bg = new Float64Array(size * size * 3);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const i = 3 * (row * size + col);
      bg[i] = 0.2 + (0.3 * col) / size;
      bg[i + 1] = 0.32;
      bg[i + 2] = 0.55 - (0.2 * row) / size;
    }
  }
  return bg;
}

/** Writes the subject through `sink` (default: into a fresh MemorySubjectFiles, which it returns). */
export async function writeAnalyticSubject(opts: AnalyticSubjectOptions = {}, sink?: SubjectSink): Promise<MemorySubjectFiles | null> {
  const size = opts.size ?? 32;
  const frames = opts.frames ?? 30;
  const focal = size * 1.6;
  const files = sink ? null : new MemorySubjectFiles('memory:analytic');
  const writer = new SubjectWriter(sink ?? new MemorySubjectSink(files!), nodeImageCodec, { width: size, height: size, focal, jpegQuality: 98 });
  const bg = backgroundImage(size);
  await writer.writeBackground({ width: size, height: size, channels: 3, data: toBytes(bg, 3) });
  const valStart = referenceValStart(frames);
  for (let t = 0; t < frames; t++) {
    const { rgb, cover, lms } = renderFrame(t, size, focal);
    const torsoRgb = new Float64Array(size * size * 3);
    const torsoA = new Float64Array(size * size);
    const gt = new Float64Array(size * size * 3);
    const parsing = new Float64Array(size * size * 3).fill(1);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const i = row * size + col;
        const body = row > size * 0.78 && Math.abs(col + 0.5 - size / 2) < size * 0.36;
        const neck = opts.neck === true && !body && row > size * 0.5 && Math.abs(col + 0.5 - size / 2) < size * 0.12;
        const torso = body || neck ? 1 : 0;
        torsoA[i] = torso;
        for (let k = 0; k < 3; k++) {
          torsoRgb[3 * i + k] = neck ? NECK_RGB[k] : [0.25, 0.35, 0.62][k];
          const under = torso ? torsoRgb[3 * i + k] : bg[3 * i + k];
          gt[3 * i + k] = cover[i] ? rgb[3 * i + k] : under;
        }
        if (cover[i]) parsing.set([0, 0, 1], 3 * i);
        else if (neck) parsing.set([0, 1, 0], 3 * i);
        else if (torso) parsing.set([1, 0, 0], 3 * i);
      }
    }
    const img = (data: Float64Array): SubjectImage => ({ width: size, height: size, channels: 3, data: toBytes(data, 3) });
    await writer.addFrame({
      split: t < valStart ? 'train' : 'val',
      imgId: t,
      audId: t,
      transform: referenceTransform(subjectPose(t)),
      eyeRatio: 0.25,
      lms,
      condition: conditionOf(t),
      ori: img(gt),
      gt: img(gt),
      parsing: img(parsing),
      torso: { width: size, height: size, channels: 4, data: toBytes(torsoRgb, 4, torsoA) },
    });
  }
  await writer.finish();
  return files;
}
