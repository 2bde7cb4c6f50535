/**
 * Parses a subject's `transforms_val.json` / `transforms_train.json` into the camera and the
 * pose track in the renderer's convention (model-spec §1; nerf/provider.py nerf_matrix_to_ngp
 * with the reference's default scale 4 and offset 0).
 */
import { FormatError } from '../errors.ts';
import { LIMITS, type CameraConfig } from '../avatar/config.ts';

/** The reference's `--scale` default: camera positions are multiplied by this. */
export const POSE_SCALE = 4;
/** The reference's value for frames without `eye_ratio` (an open eye). */
export const DEFAULT_EYE = 0.25;

export interface SubjectTransforms {
  camera: CameraConfig;
  /** [N,4,4] row-major camera-to-world matrices, renderer convention. */
  poses: Float32Array;
  frames: number;
  /** [N] eye_ratio per frame (0.25 where a frame lacks it), or null when no frame has one. */
  eye: Float32Array | null;
}

function bad(field: string, expected: string, got: unknown): FormatError {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = typeof got;
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return FormatError.expected('INPUT_FORMAT', field, expected, shown);
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(field, 'a finite number', v);
  return v;
}

/**
 * Writes `nerf_matrix_to_ngp(pose, scale)` of one 4x4 matrix into `out` at `at`: rows
 * (1, 2, 0) of the input, columns 1 and 2 negated, translation times `scale`, bottom row
 * (0,0,0,1). The input is rounded to float32 first, as the reference loads it with
 * np.array(..., dtype=np.float32).
 */
export function convertPose(m: ArrayLike<number>, out: Float32Array, at: number, scale = POSE_SCALE): void {
  const order = [1, 2, 0];
  for (let r = 0; r < 3; r++) {
    const src = order[r] * 4;
    out[at + r * 4 + 0] = Math.fround(m[src + 0]);
    out[at + r * 4 + 1] = -Math.fround(m[src + 1]);
    out[at + r * 4 + 2] = -Math.fround(m[src + 2]);
    out[at + r * 4 + 3] = Math.fround(Math.fround(m[src + 3]) * scale);
  }
  out[at + 12] = 0;
  out[at + 13] = 0;
  out[at + 14] = 0;
  out[at + 15] = 1;
}

function matrix(v: unknown, field: string): number[] {
  if (!Array.isArray(v) || v.length !== 4) throw bad(field, 'a 4x4 array', v);
  const flat: number[] = [];
  for (let r = 0; r < 4; r++) {
    const row: unknown = v[r];
    if (!Array.isArray(row) || row.length !== 4) throw bad(`${field}[${r}]`, 'an array of 4 numbers', row);
    for (let c = 0; c < 4; c++) flat.push(finite(row[c], `${field}[${r}][${c}]`));
  }
  return flat;
}

/** Throws FormatError('INPUT_FORMAT') naming the field on anything malformed. */
export function parseTransforms(json: unknown): SubjectTransforms {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('transforms', 'a JSON object', json);
  const t = json as Record<string, unknown>;
  const focal = finite(t.focal_len, 'transforms.focal_len');
  const cx = finite(t.cx, 'transforms.cx');
  const cy = finite(t.cy, 'transforms.cy');
  if (!(focal > 0)) throw bad('transforms.focal_len', 'a positive number', focal);
  // H = 2*int(cy), W = 2*int(cx) as the reference's test loader computes them.
  const width = 2 * Math.trunc(cx);
  const height = 2 * Math.trunc(cy);
  if (width < 2 || width > LIMITS.maxImageSide) throw bad('transforms.cx', `a value giving a width 2*int(cx) in [2, ${LIMITS.maxImageSide}]`, cx);
  if (height < 2 || height > LIMITS.maxImageSide) throw bad('transforms.cy', `a value giving a height 2*int(cy) in [2, ${LIMITS.maxImageSide}]`, cy);
  const frames = t.frames;
  if (!Array.isArray(frames) || frames.length === 0) throw bad('transforms.frames', 'a non-empty array', Array.isArray(frames) ? '[]' : frames);
  if (frames.length > LIMITS.maxPoses) throw bad('transforms.frames', `at most ${LIMITS.maxPoses} frames`, `${frames.length} frames`);
  const n = frames.length;
  const poses = new Float32Array(n * 16);
  const eye = new Float32Array(n).fill(DEFAULT_EYE);
  let anyEye = false;
  for (let i = 0; i < n; i++) {
    const f: unknown = frames[i];
    const field = `transforms.frames[${i}]`;
    if (!f || typeof f !== 'object' || Array.isArray(f)) throw bad(field, 'an object', f);
    const frame = f as Record<string, unknown>;
    convertPose(matrix(frame.transform_matrix, `${field}.transform_matrix`), poses, i * 16);
    if (frame.eye_ratio !== undefined) {
      eye[i] = finite(frame.eye_ratio, `${field}.eye_ratio`);
      anyEye = true;
    }
  }
  return { camera: { fx: focal, fy: focal, cx, cy, width, height }, poses, frames: n, eye: anyEye ? eye : null };
}
