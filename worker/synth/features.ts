/**
 * One frame's face features as 2-D outlines in the head frame's (x, y) plane, taken from that
 * frame's landmarks: the renderer paints eyes, lips, mouth and brows exactly where the
 * landmarks say, which is what makes the landmarks a faithful condition for the pixels.
 */
import type { Expression, FaceIdentity } from './face.ts';

export interface FaceFeatures {
  expression: Expression;
  /** [x, y, ...] outlines. */
  outerLips: Float64Array;
  innerMouth: Float64Array;
  innerUpper: Float64Array;
  innerLower: Float64Array;
  eyes: [Float64Array, Float64Array];
  upperLids: [Float64Array, Float64Array];
  brows: [Float64Array, Float64Array];
  eyeCentres: [[number, number], [number, number]];
  mouthHalfWidth: number;
  noseTip: [number, number];
}

function outline(lm: Float32Array, idx: number[]): Float64Array {
  const out = new Float64Array(idx.length * 2);
  idx.forEach((k, i) => {
    out[i * 2] = lm[k * 3];
    out[i * 2 + 1] = lm[k * 3 + 1];
  });
  return out;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

export function faceFeatures(id: FaceIdentity, e: Expression, lm: Float32Array): FaceFeatures {
  return {
    expression: e,
    outerLips: outline(lm, range(48, 60)),
    innerMouth: outline(lm, range(60, 68)),
    innerUpper: outline(lm, [60, 61, 62, 63, 64]),
    innerLower: outline(lm, [64, 65, 66, 67, 60]),
    eyes: [outline(lm, range(36, 42)), outline(lm, range(42, 48))],
    upperLids: [outline(lm, [36, 37, 38, 39]), outline(lm, [42, 43, 44, 45])],
    brows: [outline(lm, range(17, 22)), outline(lm, range(22, 27))],
    eyeCentres: [
      [(lm[36 * 3] + lm[39 * 3]) / 2, id.eyeY],
      [(lm[42 * 3] + lm[45 * 3]) / 2, id.eyeY],
    ],
    mouthHalfWidth: (lm[54 * 3] - lm[48 * 3]) / 2,
    noseTip: [lm[30 * 3], lm[30 * 3 + 1]],
  };
}
