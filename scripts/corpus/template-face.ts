/**
 * The template face: a neutral 68-point (iBUG order) 3-D face in centimetres, x to the
 * viewer's right, y up, z towards the camera, and the deformations speech makes to it.
 *
 * The corpus tracks are offsets from this neutral shape (model-spec §2: landmarks are
 * identity+expression offsets without the mean shape), so the rest pose is all zeros. The
 * default generator learns these offsets ("template" space); worker/landmarks/retarget.ts
 * maps them onto an avatar by z-scoring each number with the generator's output statistics,
 * so only the relative size and sign of the motions matter, not the units.
 */
import { LANDMARK_DIM, NUM_LANDMARKS } from '../../worker/landmarks/model.ts';

type P = [number, number, number];

function jaw(): P[] {
  const out: P[] = [];
  for (let i = 0; i <= 16; i++) {
    const phi = (Math.PI * i) / 16;
    out.push([-7 * Math.cos(phi), 1 - 11 * Math.pow(Math.sin(phi), 1.2), -5 + 4.5 * Math.sin(phi)]);
  }
  return out;
}

const mirror = (p: P): P => [-p[0], p[1], p[2]];

const BROW_R: P[] = [[-5.6, 4.4, 0.3], [-4.6, 5.0, 0.9], [-3.5, 5.2, 1.3], [-2.4, 5.1, 1.5], [-1.2, 4.8, 1.6]];
const NOSE: P[] = [[0, 3.5, 1.6], [0, 2.3, 2.0], [0, 1.2, 2.5], [0, 0, 3.0], [-1.2, -0.8, 1.5], [-0.6, -1.0, 2.0], [0, -1.1, 2.3], [0.6, -1.0, 2.0], [1.2, -0.8, 1.5]];
const EYE_R: P[] = [[-4.3, 2.5, 0.3], [-3.5, 2.9, 0.6], [-2.4, 2.9, 0.7], [-1.6, 2.5, 0.6], [-2.4, 2.2, 0.7], [-3.5, 2.2, 0.6]];
const OUTER_LIP: P[] = [
  [-2.5, -4.0, 1.2], [-1.6, -3.4, 1.7], [-0.6, -3.1, 2.0], [0, -3.2, 2.1], [0.6, -3.1, 2.0], [1.6, -3.4, 1.7],
  [2.5, -4.0, 1.2], [1.6, -4.7, 1.6], [0.7, -5.0, 1.9], [0, -5.05, 2.0], [-0.7, -5.0, 1.9], [-1.6, -4.7, 1.6],
];
// Closed at rest: lower inner points (65-67) coincide with the upper ones (61-63).
const INNER_LIP: P[] = [[-2.1, -4.0, 1.5], [-0.8, -3.85, 1.8], [0, -3.9, 1.9], [0.8, -3.85, 1.8], [2.1, -4.0, 1.5], [0.8, -3.85, 1.8], [0, -3.9, 1.9], [-0.8, -3.85, 1.8]];

/** The neutral face [68*3]. */
export const NEUTRAL_FACE: Float32Array = (() => {
  const pts: P[] = [...jaw(), ...BROW_R, ...[...BROW_R].reverse().map(mirror), ...NOSE, ...EYE_R, ...[3, 2, 1, 0, 5, 4].map((i) => mirror(EYE_R[i])), ...OUTER_LIP, ...INNER_LIP];
  if (pts.length !== NUM_LANDMARKS) throw new Error(`template face: expected ${NUM_LANDMARKS} points, got ${pts.length}`);
  return Float32Array.from(pts.flat());
})();

/** Articulation parameters of one frame; all 0 is the rest pose (mouth closed, relaxed). */
export interface Articulation {
  /** jaw opening, 0..1 (1: about 1.4 cm chin drop) */
  jaw: number;
  /** extra lip separation beyond the jaw's, 0..1 */
  open: number;
  /** lip spread (+) or narrowing (-), -1..1 */
  width: number;
  /** rounding and protrusion (o, u, w, sh), 0..1 */
  round: number;
  /** lower lip raised and drawn back to the upper teeth (f, v), 0..1 */
  tuck: number;
  /** lips pressed together (m, b, p), 0..1: removes the lip gap */
  seal: number;
}

export const ARTICULATION_KEYS = ['jaw', 'open', 'width', 'round', 'tuck', 'seal'] as const;
export const REST: Articulation = { jaw: 0, open: 0, width: 0, round: 0, tuck: 0, seal: 0 };

const UPPER_LIP = [49, 50, 51, 52, 53, 61, 62, 63];
const LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67];
const CORNERS = [48, 54, 60, 64];
const MID_LIP = [50, 51, 52, 56, 57, 58, 61, 62, 63, 65, 66, 67];

/** Inner-lip gap in cm for an articulation (0 when sealed or at rest). */
export function lipGap(a: Articulation): number {
  return Math.max(0, a.jaw * 1.2 + a.open * 0.6) * (1 - Math.min(1, Math.max(0, a.seal)));
}

/** Writes the offsets from the neutral face [204] for one articulation into `out` at `at`. */
export function articulate(a: Articulation, out: Float32Array, at = 0): void {
  const d = new Float32Array(LANDMARK_DIM);
  const add = (p: number, dx: number, dy: number, dz: number) => {
    d[p * 3] += dx;
    d[p * 3 + 1] += dy;
    d[p * 3 + 2] += dz;
  };
  // The jaw turns about the ears: the chin moves most, the contour's top not at all.
  for (let i = 0; i <= 16; i++) {
    const w = Math.sin((Math.PI * i) / 16) ** 2;
    add(i, 0, -1.4 * a.jaw * w, -0.4 * a.jaw * w);
  }
  const gap = lipGap(a);
  for (const p of UPPER_LIP) add(p, 0, 0.25 * gap + 0.1 * a.tuck, 0);
  for (const p of LOWER_LIP) add(p, 0, -0.75 * gap + 0.3 * a.tuck * (1 - gap), -0.4 * a.tuck);
  for (const p of CORNERS) add(p, 0, -0.3 * gap, 0);
  // Spread pulls the corners outwards, rounding pulls them in and pushes the lips forward.
  for (const p of CORNERS) add(p, Math.sign(NEUTRAL_FACE[p * 3]) * (0.5 * a.width - 0.6 * a.round), 0.1 * a.width, -0.2 * a.width);
  for (const p of [49, 53, 55, 59, 61, 63, 65, 67]) add(p, Math.sign(NEUTRAL_FACE[p * 3]) * (0.25 * a.width - 0.3 * a.round), 0, 0.3 * a.round);
  for (const p of MID_LIP) add(p, 0, 0, 0.5 * a.round);
  // Pressed lips bulge forward a little.
  for (const p of [...UPPER_LIP, ...LOWER_LIP]) add(p, 0, 0, 0.1 * a.seal);
  out.set(d, at);
}
