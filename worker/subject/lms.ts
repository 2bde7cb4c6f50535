/**
 * The 2-D landmark files (`ori_imgs/<i>.lms`: 68 "x y" lines, x = column, as np.savetxt
 * writes them) and the rectangles the trainer derives from them, with the reference's
 * integer truncation (nerf/provider.py): face rect over all 68, lips rect over 48..59 padded
 * to a square and clamped to the image, eye rect over 36..47.
 */
import { FormatError } from '../errors.ts';

export const LANDMARK_COUNT = 68;

/** Half-open pixel rectangle: rows [rowMin, rowMax), columns [colMin, colMax). The reference's [xmin, xmax, ymin, ymax] with x = row. */
export interface PixelRect {
  rowMin: number;
  rowMax: number;
  colMin: number;
  colMax: number;
}

/** Parses a .lms file into [68*2] float32 (x, y) pairs. Rejects wrong counts, NaN and infinities. */
export function parseLms(bytes: Uint8Array, field: string): Float32Array {
  const text = new TextDecoder().decode(bytes);
  const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  if (rows.length !== LANDMARK_COUNT) throw FormatError.expected('INPUT_FORMAT', field, `${LANDMARK_COUNT} lines of "x y"`, `${rows.length} lines`);
  const out = new Float32Array(LANDMARK_COUNT * 2);
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const parts = rows[i].split(/[\s,]+/);
    if (parts.length !== 2) throw FormatError.expected('INPUT_FORMAT', `${field} line ${i + 1}`, 'two numbers "x y"', JSON.stringify(rows[i].slice(0, 60)));
    for (let k = 0; k < 2; k++) {
      const v = Number(parts[k]);
      if (!Number.isFinite(v) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(parts[k])) {
        throw FormatError.expected('INPUT_FORMAT', `${field} line ${i + 1}`, 'finite numbers', JSON.stringify(parts[k]));
      }
      out[i * 2 + k] = v;
    }
  }
  return out;
}

/** Formats 68 (x, y) pairs as np.savetxt(path, lms, '%f') does. */
export function formatLms(lms: ArrayLike<number>): Uint8Array {
  if (lms.length !== LANDMARK_COUNT * 2) throw FormatError.expected('INPUT_FORMAT', 'lms', `${LANDMARK_COUNT * 2} values`, String(lms.length));
  const lines: string[] = [];
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const x = lms[i * 2];
    const y = lms[i * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw FormatError.input(`lms[${i}]`, `expected finite coordinates, got ${x}, ${y}`);
    lines.push(`${x.toFixed(6)} ${y.toFixed(6)}`);
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

function bounds(lms: Float32Array, from: number, to: number): PixelRect {
  let rMin = Infinity;
  let rMax = -Infinity;
  let cMin = Infinity;
  let cMax = -Infinity;
  for (let i = from; i < to; i++) {
    const c = lms[i * 2];
    const r = lms[i * 2 + 1];
    rMin = Math.min(rMin, r);
    rMax = Math.max(rMax, r);
    cMin = Math.min(cMin, c);
    cMax = Math.max(cMax, c);
  }
  // Python int() truncates toward zero.
  return { rowMin: Math.trunc(rMin), rowMax: Math.trunc(rMax), colMin: Math.trunc(cMin), colMax: Math.trunc(cMax) };
}

/** The reference's face_rect: all 68 points, unpadded. */
export function faceRect(lms: Float32Array): PixelRect {
  return bounds(lms, 0, LANDMARK_COUNT);
}

/** The reference's eye_rect: points 36..47. */
export function eyeRect(lms: Float32Array): PixelRect {
  return bounds(lms, 36, 48);
}

/** The reference's lips_rect: outer lip points 48..59, padded to a square about their centre, clamped to the image. */
export function lipsRect(lms: Float32Array, width: number, height: number): PixelRect {
  const b = bounds(lms, 48, 60);
  const pyFloorDiv = (a: number, d: number): number => Math.floor(a / d);
  const cr = pyFloorDiv(b.rowMin + b.rowMax, 2);
  const cc = pyFloorDiv(b.colMin + b.colMax, 2);
  const l = pyFloorDiv(Math.max(b.rowMax - b.rowMin, b.colMax - b.colMin), 2);
  return { rowMin: Math.max(0, cr - l), rowMax: Math.min(height, cr + l), colMin: Math.max(0, cc - l), colMax: Math.min(width, cc + l) };
}

function dist(lms: Float32Array, a: number, b: number): number {
  return Math.hypot(lms[a * 2] - lms[b * 2], lms[a * 2 + 1] - lms[b * 2 + 1]);
}

/**
 * Eye openness from the 2-D landmarks when transforms carry no eye_ratio: the mean eye aspect
 * ratio of both eyes, (|p2-p6| + |p3-p5|) / (2 |p1-p4|). It sits near 0.25-0.3 for an open eye
 * and near 0 for a closed one, the same scale as the reference's 0.25 "open eye" default.
 */
export function eyeAspectRatio(lms: Float32Array): number {
  const one = (s: number): number => {
    const w = dist(lms, s, s + 3);
    return w > 0 ? (dist(lms, s + 1, s + 5) + dist(lms, s + 2, s + 4)) / (2 * w) : 0;
  };
  return (one(36) + one(42)) / 2;
}
