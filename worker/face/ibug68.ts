/**
 * The 68-point iBUG convention (what face-alignment writes into the reference's `.lms`) taken
 * from MediaPipe's 468-point mesh. GeneFace++ publishes such a map; its jaw runs the wrong way
 * round for iBUG (index 0 must be the jaw's end on the subject's right, i.e. image left) and it
 * uses the subnasale for both the nose tip and the nostril centre, so the jaw is reversed here,
 * the nose bridge ends at the pronasale (1) and the lower nose uses the nostril-base points.
 * tests/unit/face-ibug68.test.ts checks the geometry of every group on a real photograph.
 */
import { MESH_POINTS } from './mesh.ts';

export const IBUG68_FROM_MESH: readonly number[] = [
  // 0-16 jaw, subject's right ear to left ear via the chin.
  127, 234, 132, 58, 172, 150, 149, 148, 152, 377, 378, 379, 397, 288, 361, 454, 356,
  // 17-21 right brow outer->inner, 22-26 left brow inner->outer.
  70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
  // 27-30 bridge nasion->tip, 31-35 nostril base right->left.
  168, 197, 5, 1, 98, 97, 2, 326, 327,
  // 36-41 right eye, 42-47 left eye (outer/inner corner, two upper lid, two lower lid points).
  33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
  // 48-59 outer lips from the right corner clockwise in the image, 60-67 inner lips.
  61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91, 78, 81, 13, 311, 308, 402, 14, 178,
];

/** Picks the 68 iBUG points (x, y, z interleaved) out of a 468-point mesh. */
export function meshToIbug68(points: Float32Array, dims: 2 | 3 = 3): Float32Array {
  if (points.length !== MESH_POINTS * 3) throw new Error(`meshToIbug68: expected ${MESH_POINTS * 3} values, got ${points.length}`);
  const out = new Float32Array(68 * dims);
  IBUG68_FROM_MESH.forEach((m, i) => {
    for (let k = 0; k < dims; k++) out[i * dims + k] = points[m * 3 + k];
  });
  return out;
}

/** Eye opening from 68 landmarks (stride `dims`): the mean over both eyes of lid distance over
 * eye width (the "eye aspect ratio"), ~0.25-0.3 open and ~0.05 shut, the scale of the
 * reference's `eye_ratio` (0.25 = an open eye). */
export function eyeRatio(lms: Float32Array, dims: 2 | 3 = 2): number {
  return lidRatio(lms, dims, 36);
}

/** eyeRatio of the 12 eye points alone (iBUG 36-47 in order, stride `dims`), e.g. the attention
 * model's lids (eyes.ts runEyeLids). */
export function eyeRatioOfLids(lids: Float32Array, dims: 2 | 3 = 2): number {
  if (lids.length !== 12 * dims) throw new Error(`eyeRatioOfLids: expected ${12 * dims} values, got ${lids.length}`);
  return lidRatio(lids, dims, 0);
}

function lidRatio(pts: Float32Array, dims: number, first: number): number {
  const d = (a: number, b: number): number => Math.hypot(pts[a * dims] - pts[b * dims], pts[a * dims + 1] - pts[b * dims + 1]);
  const ear = (o: number): number => (d(o + 1, o + 5) + d(o + 2, o + 4)) / (2 * Math.max(1e-6, d(o, o + 3)));
  return (ear(first) + ear(first + 6)) / 2;
}
