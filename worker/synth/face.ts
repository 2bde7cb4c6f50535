/**
 * The synthetic head's shape and its 68 iBUG landmarks, in the head frame of the reference
 * layout (the head at the origin, x to the image's right, y up, z towards the camera; units
 * such that the reference's scale 4 puts the head inside the renderer's aabb
 * [-1,-0.5,-1]..[1,0.5,1]). The head is a union of ellipsoids (skull, nose and its wings, ears) under a hair
 * cap; landmarks lie on its front surface and move with the expression.
 */
import { mulberry32 } from '../util/random.ts';

export interface Ellipsoid {
  c: [number, number, number];
  r: [number, number, number];
}

/** One person's (seeded) proportions and colours: varied so different seeds give different faces. */
export interface FaceIdentity {
  skull: Ellipsoid;
  nose: Ellipsoid;
  /** The nostril wings either side of the nose tip. */
  alae: [Ellipsoid, Ellipsoid];
  ears: [Ellipsoid, Ellipsoid];
  hair: Ellipsoid;
  /** Hairline height above which the cap is hair (front), and the fringe's curve depth. */
  hairline: number;
  fringe: number;
  eyeY: number;
  eyeX: number;
  eyeHalfWidth: number;
  eyeOpenHeight: number;
  browY: number;
  mouthY: number;
  mouthHalfWidth: number;
  skin: [number, number, number];
  lips: [number, number, number];
  hairColor: [number, number, number];
  iris: [number, number, number];
  shirt: [number, number, number];
}

/** The expression of one frame: all in [0, 1] except smile in [-1, 1]. */
export interface Expression {
  /** Jaw/mouth opening: 0 closed lips, 1 wide open. */
  open: number;
  /** Mouth corners: positive widens (smile), negative narrows (rounded vowel). */
  smile: number;
  /** Eye openness per eye (subject's right = image left first): 1 open, 0 shut. */
  eyeRight: number;
  eyeLeft: number;
  /** Brow raise in [0, 1] (emphasis while talking). */
  brows: number;
}

export const NEUTRAL: Expression = { open: 0, smile: 0, eyeRight: 1, eyeLeft: 1, brows: 0 };

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length) % items.length];
}

export function makeIdentity(seed: number): FaceIdentity {
  const rand = mulberry32(seed ^ 0x5eed);
  const v = (base: number, spread: number): number => base * (1 + (rand() * 2 - 1) * spread);
  const rx = v(0.082, 0.05);
  const ry = v(0.112, 0.04);
  const rz = v(0.09, 0.03);
  const cy = 0.012;
  const skinTones: [number, number, number][] = [
    [0.93, 0.76, 0.64],
    [0.86, 0.66, 0.52],
    [0.74, 0.53, 0.4],
    [0.56, 0.38, 0.27],
    [0.4, 0.26, 0.18],
  ];
  const hairs: [number, number, number][] = [
    [0.12, 0.08, 0.05],
    [0.3, 0.19, 0.1],
    [0.55, 0.38, 0.2],
    [0.08, 0.07, 0.07],
    [0.62, 0.3, 0.15],
  ];
  const irises: [number, number, number][] = [
    [0.35, 0.22, 0.1],
    [0.2, 0.35, 0.55],
    [0.3, 0.42, 0.25],
    [0.25, 0.16, 0.08],
  ];
  const shirts: [number, number, number][] = [
    [0.2, 0.3, 0.5],
    [0.55, 0.15, 0.15],
    [0.25, 0.45, 0.3],
    [0.85, 0.85, 0.82],
    [0.3, 0.3, 0.32],
  ];
  const skin = pick(rand, skinTones);
  return {
    skull: { c: [0, cy, 0], r: [rx, ry, rz] },
    nose: { c: [0, cy - 0.026, rz * 0.84], r: [v(0.0105, 0.1), v(0.022, 0.1), 0.021] },
    alae: [
      { c: [-0.0105, cy - 0.039, rz * 0.84 - 0.001], r: [0.0072, 0.006, 0.0115] },
      { c: [0.0105, cy - 0.039, rz * 0.84 - 0.001], r: [0.0072, 0.006, 0.0115] },
    ],
    ears: [
      { c: [-rx * 0.97, cy - 0.005, -0.01], r: [0.012, 0.026, 0.016] },
      { c: [rx * 0.97, cy - 0.005, -0.01], r: [0.012, 0.026, 0.016] },
    ],
    hair: { c: [0, cy + 0.012, -0.008], r: [rx * 1.12, ry * 1.08, rz * 1.1] },
    hairline: cy + ry * v(0.56, 0.08),
    fringe: v(0.012, 0.3),
    eyeY: cy + 0.012,
    eyeX: v(0.033, 0.05),
    eyeHalfWidth: v(0.0148, 0.06),
    eyeOpenHeight: v(0.0066, 0.08),
    browY: cy + 0.036,
    mouthY: cy - 0.066,
    mouthHalfWidth: v(0.024, 0.08),
    skin,
    lips: [skin[0] * 0.85, skin[1] * 0.5, skin[2] * 0.52],
    hairColor: pick(rand, hairs),
    iris: pick(rand, irises),
    shirt: pick(rand, shirts),
  };
}

/** How far the chin drops at full opening (the skull's lower half stretches by this). */
export const JAW_DROP = 0.024;

/** The skull's lower half: the same ellipsoid with its downward radius stretched by the jaw. */
export function lowerSkull(id: FaceIdentity, open: number): Ellipsoid {
  const s = id.skull;
  return { c: s.c, r: [s.r[0], s.r[1] + JAW_DROP * open, s.r[2]] };
}

/** z of the front surface of an ellipsoid at (x, y); points outside the silhouette are clamped onto its rim. */
export function ellipsoidFrontZ(e: Ellipsoid, x: number, y: number): number {
  const dx = (x - e.c[0]) / e.r[0];
  const dy = (y - e.c[1]) / e.r[1];
  const q = 1 - dx * dx - dy * dy;
  return e.c[2] + e.r[2] * Math.sqrt(Math.max(0, q));
}

function insideSilhouette(e: Ellipsoid, x: number, y: number): boolean {
  return ((x - e.c[0]) / e.r[0]) ** 2 + ((y - e.c[1]) / e.r[1]) ** 2 <= 1;
}

/** The head's front surface at (x, y): skull (split at its centre for the jaw) and nose; hair is excluded, landmarks sit on skin. */
export function faceSurfaceZ(id: FaceIdentity, x: number, y: number, open: number): number {
  const skull = y < id.skull.c[1] ? lowerSkull(id, open) : id.skull;
  const z = ellipsoidFrontZ(skull, x, y);
  let front = z;
  for (const e of [id.nose, ...id.alae]) if (insideSilhouette(e, x, y)) front = Math.max(front, ellipsoidFrontZ(e, x, y));
  return front;
}

/**
 * Inner lip line heights at the mouth centre for an opening: [upper, lower]. Closed lips meet
 * (a hairline gap keeps the inner outline a polygon); wide open, the gap is about a third of the
 * mouth's width, as in speech, so the dark mouth is what an open mouth looks like at 64 px.
 */
export function innerLips(id: FaceIdentity, open: number): [number, number] {
  return [id.mouthY + 0.0002 + 0.004 * open, id.mouthY - 0.0002 - 0.028 * open];
}

/**
 * The 68 landmarks as [68*3] in the head frame. 2-D layout per the iBUG convention: 0-16 jaw
 * (image left to right), 17-21 and 22-26 brows, 27-30 nose bridge, 31-35 nostrils, 36-41 and
 * 42-47 eyes (corner, two upper lid points, corner, two lower), 48-59 outer lips from the left
 * corner over the top, 60-67 inner lips.
 */
export function landmarks3d(id: FaceIdentity, e: Expression, out = new Float32Array(68 * 3)): Float32Array {
  const pts: [number, number][] = [];
  const sx = id.skull.r[0];
  const syLow = lowerSkull(id, e.open).r[1];
  const cy = id.skull.c[1];
  // Jaw: inside the lower skull's silhouette from ear level down to the chin and back up; it drops with the jaw.
  for (let i = 0; i <= 16; i++) {
    const a = Math.PI * (1.04 + (0.92 * i) / 16);
    pts.push([0.95 * sx * Math.cos(a), cy + 0.95 * syLow * Math.sin(a)]);
  }
  for (const side of [-1, 1]) {
    for (let i = 0; i < 5; i++) {
      const t = side < 0 ? i / 4 : 1 - i / 4; // outer to inner on the image-left brow, inner to outer on the right
      const x = side * (id.eyeX + id.eyeHalfWidth * 1.5 - t * id.eyeHalfWidth * 2.6);
      pts.push([x, id.browY + 0.0035 * e.brows * (0.6 + 0.4 * t) + 0.006 * Math.sin(Math.PI * (0.15 + 0.75 * t))]);
    }
  }
  const noseTipY = id.nose.c[1] - id.nose.r[1] * 0.55;
  for (let i = 0; i < 4; i++) pts.push([0, id.eyeY - 0.004 - ((id.eyeY - 0.004 - noseTipY) * i) / 3]);
  for (let i = 0; i < 5; i++) pts.push([(i - 2) * id.nose.r[0] * 0.6, noseTipY - 0.006 + Math.abs(i - 2) * 0.0025]);
  for (const [side, open] of [[-1, e.eyeRight], [1, e.eyeLeft]] as const) {
    const xc = side * id.eyeX;
    const hw = id.eyeHalfWidth;
    const up = id.eyeOpenHeight * open;
    const low = id.eyeOpenHeight * 0.75 * open;
    const y = id.eyeY;
    // Corner, upper lid (two points), corner, lower lid (two points), going clockwise in the image.
    pts.push([xc - hw, y], [xc - hw / 3, y + up], [xc + hw / 3, y + up], [xc + hw, y], [xc + hw / 3, y - low], [xc - hw / 3, y - low]);
  }
  const hw = id.mouthHalfWidth * (1 + 0.16 * e.smile - 0.1 * e.open);
  const cornerY = id.mouthY + 0.004 * e.smile - 0.003 * e.open;
  const [inUp, inLow] = innerLips(id, e.open);
  const outUp = inUp + 0.0088;
  const outLow = inLow - 0.0102;
  // Outer lips: 48 left corner, 49-53 upper lip (51 its centre), 54 right corner, 55-59 lower lip back.
  const upper = (t: number, top: number): number => cornerY + (top - cornerY) * (1 - t * t) + (Math.abs(t) < 0.5 ? 0.0012 * Math.cos(Math.PI * t) : 0);
  const lower = (t: number, bottom: number): number => cornerY + (bottom - cornerY) * (1 - t * t);
  pts.push([-hw, cornerY]);
  for (const t of [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3]) pts.push([t * hw, upper(t, outUp)]);
  pts.push([hw, cornerY]);
  for (const t of [2 / 3, 1 / 3, 0, -1 / 3, -2 / 3]) pts.push([t * hw, lower(t, outLow)]);
  const ihw = hw * 0.82;
  pts.push([-ihw, cornerY]);
  for (const t of [-1 / 2, 0, 1 / 2]) pts.push([t * ihw, lower(t, inUp)]);
  pts.push([ihw, cornerY]);
  for (const t of [1 / 2, 0, -1 / 2]) pts.push([t * ihw, lower(t, inLow)]);
  for (let i = 0; i < 68; i++) {
    const [x, y] = pts[i];
    out[i * 3] = x;
    out[i * 3 + 1] = y;
    out[i * 3 + 2] = faceSurfaceZ(id, x, y, e.open);
  }
  return out;
}
