/**
 * Surface colours of the synthetic person: skin with subtle variation and cheek colour, eyes
 * (sclera, iris, pupil, catch-light, lash line), brows, lips, the inner mouth with teeth and
 * tongue, nostrils, hair strands, neck and a shirt with a neckline. Albedo only; shading is
 * applied by the renderer. Each paint also returns the ground-truth class of the point.
 */
import type { FaceIdentity } from './face.ts';
import type { FaceFeatures } from './features.ts';
import { insidePolygon, polylineDistance, polylineYAt, valueNoise } from './shapes.ts';

export const GT_CLASS = { background: 0, skin: 1, neck: 2, torso: 3, hair: 4, lips: 5, mouth: 6, eye: 7 } as const;

export interface Paint {
  rgb: [number, number, number];
  cls: number;
  /** Specular strength (wet lips and eyes shine). */
  spec: number;
  /** Ambient occlusion factor in (0, 1] (eye sockets, under the nose, the chin crease); 1 when absent. */
  ao?: number;
}

function mix(a: readonly number[], b: readonly number[], t: number): [number, number, number] {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function scale(a: readonly number[], s: number): [number, number, number] {
  return [a[0] * s, a[1] * s, a[2] * s];
}

const SCLERA = [0.94, 0.93, 0.9];
const TEETH = [0.93, 0.91, 0.85];
const MOUTH = [0.09, 0.02, 0.03];
const TONGUE = [0.42, 0.15, 0.17];
const LASH = [0.06, 0.04, 0.04];

function skinAt(id: FaceIdentity, x: number, y: number, seed: number): [number, number, number] {
  const n = valueNoise(x * 260, y * 260, seed) * 0.6 + valueNoise(x * 900, y * 900, seed + 1) * 0.4;
  let c = scale(id.skin, 0.95 + 0.08 * n);
  // Cheeks: a soft warm patch below each eye.
  for (const side of [-1, 1]) {
    const d = Math.hypot(x - side * (id.eyeX + 0.008), (y - (id.mouthY + 0.036)) * 1.3) / 0.02;
    if (d < 1) c = mix(c, [c[0] * 1.02, c[1] * 0.86, c[2] * 0.86], 0.45 * (1 - d * d));
  }
  return c;
}

/** Paint of a point on the face (skull or nose front) at head-frame (x, y). */
export function paintFace(id: FaceIdentity, f: FaceFeatures, x: number, y: number, seed: number, frontFacing: boolean): Paint {
  if (frontFacing) {
    const top = polylineYAt(f.innerUpper, x);
    const bottom = polylineYAt(f.innerLower, x);
    // Lips parted by less than ~1.5 mm still touch along most of their depth: no mouth shows.
    if (top - bottom > 0.0016 && insidePolygon(f.innerMouth, x, y)) {
      const tooth = ((x / 0.0042) % 1 + 1) % 1;
      const gap = Math.abs(tooth - 0.5) > 0.43;
      // Inside the mouth little light arrives: the upper teeth show as a thin band in the upper
      // lip's shadow, the lower teeth and tongue only when the mouth is wide open, and the rest
      // is the dark cavity (a real open mouth reads as dark, not as a ring of teeth).
      const gapHeight = top - bottom;
      if (y > top - 0.0026 && Math.abs(x) < f.mouthHalfWidth * 0.7) return { rgb: gap ? scale(TEETH, 0.3) : scale(TEETH, 0.6), cls: GT_CLASS.mouth, spec: 0.15, ao: 0.7 };
      if (y < bottom + 0.0018 && Math.abs(x) < f.mouthHalfWidth * 0.5 && gapHeight > 0.014) return { rgb: gap ? scale(TEETH, 0.3) : scale(TEETH, 0.6), cls: GT_CLASS.mouth, spec: 0.2, ao: 0.7 };
      if (y < bottom + 0.005 && Math.abs(x) < f.mouthHalfWidth * 0.45 && gapHeight > 0.01) return { rgb: [...TONGUE] as [number, number, number], cls: GT_CLASS.mouth, spec: 0.1, ao: 0.6 };
      return { rgb: [...MOUTH] as [number, number, number], cls: GT_CLASS.mouth, spec: 0 };
    }
    if (insidePolygon(f.outerLips, x, y)) {
      const upper = y > polylineYAt(f.innerUpper, x);
      return { rgb: scale(id.lips, upper ? 0.88 : 1.0), cls: GT_CLASS.lips, spec: 0.25 };
    }
    for (let k = 0; k < 2; k++) {
      const lid = polylineDistance(f.upperLids[k], x, y);
      if (insidePolygon(f.eyes[k], x, y)) {
        if (lid.d < 0.0008) return { rgb: [...LASH] as [number, number, number], cls: GT_CLASS.eye, spec: 0 };
        const [ex, ey] = f.eyeCentres[k];
        const r = Math.hypot(x - ex, y - ey + 0.0004);
        if (Math.hypot(x - ex - 0.0018, y - ey - 0.0018) < 0.0011) return { rgb: [1, 1, 1], cls: GT_CLASS.eye, spec: 0.5 };
        if (r < 0.0025) return { rgb: [0.03, 0.03, 0.04], cls: GT_CLASS.eye, spec: 0.4 };
        if (r < 0.0062) return { rgb: scale(id.iris, 0.75 + 0.5 * (r / 0.0062)), cls: GT_CLASS.eye, spec: 0.4 };
        return { rgb: scale(SCLERA, 0.92 + 0.08 * Math.min(1, lid.d / 0.004)), cls: GT_CLASS.eye, spec: 0.4 };
      }
      // A closed or closing eye still shows its lash line.
      if (lid.d < 0.0007 && f.expression[k === 0 ? 'eyeRight' : 'eyeLeft'] < 0.5) return { rgb: [...LASH] as [number, number, number], cls: GT_CLASS.eye, spec: 0 };
      const brow = polylineDistance(f.brows[k], x, y);
      const thickness = 0.0036 * (1.1 - 0.5 * (k === 0 ? brow.s : 1 - brow.s));
      if (brow.d < thickness) return { rgb: scale(mix(id.hairColor, LASH, 0.45), 0.85 + 0.2 * valueNoise(x * 3000, y * 600, seed + 7)), cls: GT_CLASS.hair, spec: 0 };
    }
    // Nostrils.
    for (const side of [-1, 1]) {
      const d = Math.hypot((x - (f.noseTip[0] + side * 0.0075)) / 0.0034, (y - (f.noseTip[1] - 0.0055)) / 0.0017);
      if (d < 1) return { rgb: scale(id.skin, 0.35), cls: GT_CLASS.skin, spec: 0 };
    }
    // Eyelid crease: a slightly darker band above each eye.
    for (let k = 0; k < 2; k++) {
      const [ex, ey] = f.eyeCentres[k];
      const d = Math.hypot((x - ex) / (id.eyeHalfWidth * 1.1), (y - ey - id.eyeOpenHeight * 1.6) / (id.eyeOpenHeight * 1.1));
      if (d < 1) return { rgb: scale(skinAt(id, x, y, seed), 0.9 + 0.1 * d), cls: GT_CLASS.skin, spec: 0.05 };
    }
  }
  return { rgb: skinAt(id, x, y, seed), cls: GT_CLASS.skin, spec: 0.06, ao: frontFacing ? faceOcclusion(id, f, x, y) : 1 };
}

/** Soft darkening where a real face is recessed: eye sockets, under the nose, the philtrum and the chin crease. */
function faceOcclusion(id: FaceIdentity, f: FaceFeatures, x: number, y: number): number {
  let ao = 1;
  for (const [ex, ey] of f.eyeCentres) {
    const d2 = ((x - ex) / (id.eyeHalfWidth * 1.9)) ** 2 + ((y - ey - 0.002) / (id.eyeOpenHeight * 3.2)) ** 2;
    if (d2 < 1) ao *= 1 - 0.16 * (1 - d2);
  }
  const n2 = (x / 0.017) ** 2 + ((y - (f.noseTip[1] - 0.009)) / 0.0045) ** 2;
  if (n2 < 1) ao *= 1 - 0.18 * (1 - n2);
  let lipTop = -Infinity;
  let lipBottom = Infinity;
  for (let i = 1; i < f.outerLips.length; i += 2) {
    lipTop = Math.max(lipTop, f.outerLips[i]);
    lipBottom = Math.min(lipBottom, f.outerLips[i]);
  }
  if (Math.abs(x) < 0.0032 && y > lipTop && y < f.noseTip[1] - 0.006) ao *= 0.93 + 0.07 * (Math.abs(x) / 0.0032);
  const c = (y - (lipBottom - 0.007)) / 0.0035;
  if (Math.abs(c) < 1 && Math.abs(x) < f.mouthHalfWidth * 0.8) ao *= 1 - 0.1 * (1 - c * c);
  return ao;
}

export function paintHair(id: FaceIdentity, x: number, y: number, z: number, seed: number): Paint {
  // Strands run roughly front to back: stripes across x with noise along them.
  const s = 0.75 + 0.25 * Math.sin(x * 1400 + valueNoise(y * 200, z * 200, seed + 3) * 6) + 0.15 * (valueNoise(x * 700, z * 150, seed + 4) - 0.5);
  return { rgb: scale(id.hairColor, s), cls: GT_CLASS.hair, spec: 0.12 };
}

/** Whether a point on the hair cap (head frame) is hair rather than bare skin or face. */
export function isHair(id: FaceIdentity, x: number, y: number, z: number): boolean {
  const rx = id.skull.r[0];
  const front = y > id.hairline + id.fringe * (x / rx) ** 2 - id.fringe * 0.6 * Math.cos((x / rx) * 9) * 0.3;
  const back = z < -0.3 * id.skull.r[2] && y > id.skull.c[1] - 0.06;
  const sides = Math.abs(x) > 0.8 * rx && y > id.eyeY - 0.008 && z < 0.45 * id.skull.r[2];
  return front || back || sides;
}

export function paintNeck(id: FaceIdentity, y: number, chinY: number): Paint {
  // Shadow under the chin.
  const shade = y > chinY - 0.025 ? 0.72 : 0.86;
  return { rgb: scale(id.skin, shade), cls: GT_CLASS.neck, spec: 0.03 };
}

export function paintTorso(id: FaceIdentity, x: number, y: number, z: number, seed: number): Paint {
  // A V neckline shows skin; the shirt has a faint weave.
  if (y > -0.178 + 1.6 * Math.abs(x) && z > 0) return { rgb: scale(id.skin, 0.84), cls: GT_CLASS.neck, spec: 0.03 };
  const w = 0.94 + 0.06 * valueNoise(x * 500, y * 500, seed + 9);
  return { rgb: scale(id.shirt, w), cls: GT_CLASS.torso, spec: 0.02 };
}
