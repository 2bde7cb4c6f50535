/**
 * Test videos with known ground truth: the astronaut photo (test-only fixture) textured onto
 * the canonical face, at poses from a trajectory, over a static background with a static
 * torso, as a FrameSource the preparation pipeline reads like any other.
 */
import { readFileSync } from 'node:fs';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import { projectPoints } from '../../worker/face/joint-photometric.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import type { CanonicalFace } from '../../worker/face/canonical.ts';
import { FaceTracker, type FaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import type { FrameSource } from '../../worker/prepare/pipeline.ts';
import { PARSING_LABEL } from '../../worker/subject/layout.ts';
import { renderHead, testBackground, type TexturedMesh } from './face-render.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;

export function astronautPhoto(): RgbFrame {
  return decodeImage(readFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url)));
}

export interface HeadShapeOptions {
  /** 'canonical' (default): MediaPipe's canonical face, a closed mouth. 'photo': the mesh model's
   * own 3-D reading of the photograph (its mouth open in a smile, as the texture shows), placed
   * on the canonical face by a similarity on MediaPipe's stable (Procrustes) points. */
  shape?: HeadShape;
}

/** Besides 'canonical' and 'photo' (HeadShapeOptions): 'photo-mouth', the canonical face wearing the
 * photo's lips, the skin between following harmonically; 'canonical-mouth', the same with every
 * vertex above the subnasale held canonical, so the part a pose fit textures is exactly the
 * template (docs/prepare.md "Focal: one reference frame is not enough"); 'canonical-upper', the
 * canonical face above the subnasale and the photo's shape from 1 cm below it down (lips, cheeks,
 * chin, jaw), so the mouth's surroundings match their texture too (docs/prepare.md "One render for
 * the focal, the rotations and the mouth"). */
export type HeadShape = 'canonical' | 'photo' | 'photo-mouth' | 'canonical-mouth' | 'canonical-upper';

/** The canonical face (or the photo's own face shape) textured with the photo: each vertex takes
 * the photo's pixel where the mesh model puts that vertex. */
export function astronautHead(models: FaceModels, opts: HeadShapeOptions = {}): TexturedMesh {
  const photo = astronautPhoto();
  const mesh = new FaceTracker(models).track(photo).mesh;
  if (!mesh) throw new Error('no face in the astronaut fixture');
  const uv = new Float32Array(468 * 2);
  for (let i = 0; i < 468; i++) {
    uv[i * 2] = mesh.points[i * 3];
    uv[i * 2 + 1] = mesh.points[i * 3 + 1];
  }
  const C = models.canonical;
  const vertices =
    opts.shape === 'photo'
      ? meshInTemplate(mesh.points, C)
      : opts.shape === 'photo-mouth'
        ? withMouthOf(meshInTemplate(mesh.points, C), C)
        : opts.shape === 'canonical-mouth'
          ? withMouthOf(meshInTemplate(mesh.points, C), C, aboveSubnasale(C))
          : opts.shape === 'canonical-upper'
            ? withLowerFaceOf(meshInTemplate(mesh.points, C), C)
            : C.vertices;
  return { vertices, triangles: models.canonical.triangles, uv, texture: photo };
}

/**
 * A 468-point mesh from the model (frame pixels: x right, y down, z away from the camera) as a
 * head in the canonical face's frame and centimetres (x, -y, -z, then the least-squares
 * similarity onto the canonical face weighted by its Procrustes weights: Horn's closed form).
 * Why the proof's render needs it (docs/prepare.md "Mouth landmarks"): the photo's mouth is an
 * open smile (inner lips 1.22 cm apart on this mesh, 0.58 cm on the canonical face). Laid on the
 * canonical face's closed mouth, the teeth and lips are squeezed to half their height, a face no
 * camera records, and the mesh model reads that mouth 1.29x taller than its vertices.
 */
export function meshInTemplate(points: Float32Array, canonical: CanonicalFace): Float32Array {
  const n = canonical.vertices.length / 3;
  const P = new Float64Array(n * 3);
  for (let v = 0; v < n; v++) {
    P[v * 3] = points[v * 3];
    P[v * 3 + 1] = -points[v * 3 + 1];
    P[v * 3 + 2] = -points[v * 3 + 2];
  }
  const Q = canonical.vertices;
  const w = canonical.weights;
  let wsum = 0;
  const mp = [0, 0, 0];
  const mq = [0, 0, 0];
  for (let v = 0; v < n; v++) {
    wsum += w[v];
    for (let d = 0; d < 3; d++) {
      mp[d] += w[v] * P[v * 3 + d];
      mq[d] += w[v] * Q[v * 3 + d];
    }
  }
  if (!(wsum > 0)) throw new Error('meshInTemplate: the canonical face has no Procrustes weights');
  for (let d = 0; d < 3; d++) {
    mp[d] /= wsum;
    mq[d] /= wsum;
  }
  // Cross-covariance S[i][j] = sum w p_i q_j of the centred points, and the spread of P.
  const S = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  let spread = 0;
  for (let v = 0; v < n; v++) {
    const p = [0, 1, 2].map((d) => P[v * 3 + d] - mp[d]);
    const q = [0, 1, 2].map((d) => Q[v * 3 + d] - mq[d]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) S[i * 3 + j] += w[v] * p[i] * q[j];
    spread += w[v] * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  // Horn: the rotation's quaternion is the top eigenvector of this symmetric 4x4 (Jacobi sweeps).
  const A = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const E = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 30; sweep++) {
    for (let p = 0; p < 3; p++) {
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(A[p][q]) < 1e-12) continue;
        const th = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = (th >= 0 ? 1 : -1) / (Math.abs(th) + Math.sqrt(th * th + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (const M of [A, E]) {
          for (let k = 0; k < 4; k++) {
            const [a, b] = [M[k][p], M[k][q]];
            M[k][p] = c * a - s * b;
            M[k][q] = s * a + c * b;
          }
        }
        for (let k = 0; k < 4; k++) {
          const [a, b] = [A[p][k], A[q][k]];
          A[p][k] = c * a - s * b;
          A[q][k] = s * a + c * b;
        }
      }
    }
  }
  let top = 0;
  for (let k = 1; k < 4; k++) if (A[k][k] > A[top][top]) top = k;
  const [qw, qx, qy, qz] = [0, 1, 2, 3].map((k) => E[k][top]);
  const R = [
    qw * qw + qx * qx - qy * qy - qz * qz, 2 * (qx * qy - qw * qz), 2 * (qx * qz + qw * qy),
    2 * (qx * qy + qw * qz), qw * qw - qx * qx + qy * qy - qz * qz, 2 * (qy * qz - qw * qx),
    2 * (qx * qz - qw * qy), 2 * (qy * qz + qw * qx), qw * qw - qx * qx - qy * qy + qz * qz,
  ];
  let dot = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) dot += R[i * 3 + j] * S[j * 3 + i];
  const scale = dot / spread;
  const out = new Float32Array(n * 3);
  for (let v = 0; v < n; v++) {
    const p = [0, 1, 2].map((d) => P[v * 3 + d] - mp[d]);
    for (let i = 0; i < 3; i++) out[v * 3 + i] = mq[i] + scale * (R[i * 3] * p[0] + R[i * 3 + 1] * p[1] + R[i * 3 + 2] * p[2]);
  }
  return out;
}

/** MediaPipe's lip contours (FACEMESH_LIPS: outer and inner, 40 vertices). */
export const LIP_VERTICES = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409, 78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415];

/** The canonical face wearing `shaped`'s lips: the lip vertices move to `shaped`'s, the stable
 * (Procrustes) points and the face's outline stay, and every other vertex moves by the harmonic
 * interpolation of those offsets over the mesh's edges (each the mean of its neighbours), so the
 * skin around the mouth follows it with no seam and no radius to choose. */
export function withMouthOf(shaped: Float32Array, canonical: CanonicalFace, alsoFixed: readonly number[] = []): Float32Array {
  const C = canonical.vertices;
  const set = new Map<number, number[]>();
  for (const v of LIP_VERTICES) set.set(v, [0, 1, 2].map((d) => shaped[v * 3 + d] - C[v * 3 + d]));
  const off = harmonicOffsets(canonical, set, alsoFixed);
  return Float32Array.from(C, (c, k) => c + off[k]);
}

/** The canonical face above its subnasale, `shaped`'s whole face more than `band` cm below it (lips,
 * cheeks, chin and jaw alike), the band between following harmonically. */
export function withLowerFaceOf(shaped: Float32Array, canonical: CanonicalFace, band = 1): Float32Array {
  const C = canonical.vertices;
  const y2 = C[2 * 3 + 1];
  const set = new Map<number, number[]>();
  for (let v = 0; v < C.length / 3; v++) if (C[v * 3 + 1] < y2 - band) set.set(v, [0, 1, 2].map((d) => shaped[v * 3 + d] - C[v * 3 + d]));
  for (const v of aboveSubnasale(canonical)) set.set(v, [0, 0, 0]);
  const off = harmonicOffsets(canonical, set);
  return Float32Array.from(C, (c, k) => c + off[k]);
}

/** The canonical face's vertices above its subnasale (vertex 2): the part a pose fit may take as
 * rigid (worker/face/photometric.ts textures only those). */
export function aboveSubnasale(canonical: CanonicalFace): number[] {
  const V = canonical.vertices;
  const y = V[2 * 3 + 1];
  return Array.from({ length: V.length / 3 }, (_, v) => v).filter((v) => V[v * 3 + 1] > y);
}

/** The lower lip's vertices (outer and inner contours, without the corners). */
const LOWER_LIP = [146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324];

/** How far each vertex follows the lower lip when the mouth opens (1 on the lower lip; 0 on the
 * upper lip, the corners, the stable points and the outline; harmonic in between). A head whose
 * mouth opens by `d` cm has y lowered by `d * weight` (the texture stays: the photo's teeth
 * stretch, the truth is still each vertex's projection). */
export function lowerLipWeights(canonical: CanonicalFace): Float64Array {
  const set = new Map<number, number[]>();
  for (const v of LIP_VERTICES) set.set(v, [0, 0, 0]);
  for (const v of LOWER_LIP) set.set(v, [1, 0, 0]);
  const off = harmonicOffsets(canonical, set);
  return Float64Array.from({ length: off.length / 3 }, (_, v) => off[v * 3]);
}

/** Offsets (n x 3) that take `set`'s values on its vertices, zero on MediaPipe's stable points and
 * on the mesh's outline (edges of one triangle), and at every other vertex the mean of its
 * neighbours (Gauss-Seidel sweeps until the largest change is below 1e-6). */
function harmonicOffsets(canonical: CanonicalFace, set: Map<number, number[]>, alsoFixed: readonly number[] = []): Float64Array {
  const n = canonical.vertices.length / 3;
  const nb: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  const T = canonical.triangles;
  const edgeUse = new Map<string, number>();
  for (let k = 0; k < T.length; k += 3) {
    for (let e = 0; e < 3; e++) {
      const a = T[k + e];
      const b = T[k + ((e + 1) % 3)];
      nb[a].add(b);
      nb[b].add(a);
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      edgeUse.set(key, (edgeUse.get(key) ?? 0) + 1);
    }
  }
  const fixed = new Uint8Array(n);
  for (let v = 0; v < n; v++) if (canonical.weights[v] > 0) fixed[v] = 1;
  for (const [key, uses] of edgeUse) if (uses === 1) for (const v of key.split(',').map(Number)) fixed[v] = 1;
  for (const v of alsoFixed) fixed[v] = 1;
  const off = new Float64Array(n * 3);
  for (const [v, value] of set) {
    fixed[v] = 1;
    off.set(value, v * 3);
  }
  for (let it = 0; it < 10_000; it++) {
    let change = 0;
    for (let v = 0; v < n; v++) {
      if (fixed[v]) continue;
      for (let d = 0; d < 3; d++) {
        let s = 0;
        for (const u of nb[v]) s += off[u * 3 + d];
        const next = s / nb[v].size;
        change = Math.max(change, Math.abs(next - off[v * 3 + d]));
        off[v * 3 + d] = next;
      }
    }
    if (change < 1e-6) break;
  }
  return off;
}

/** A slow, talking-head-like motion: yaw +-15, pitch +-6, roll +-4 degrees over `period` frames. */
export function gentlePose(i: number, period = 100): HeadPose {
  const s = (2 * Math.PI * i) / period;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, 15 * Math.sin(s) * DEG, 0]), mat3Mul(rodrigues([6 * Math.sin(2 * s + 1) * DEG, 0, 0]), rodrigues([0, 0, 4 * Math.sin(s + 2) * DEG]))));
  return { R, t: [1.5 * Math.sin(s), -2 + Math.cos(s), 50] };
}

/** The static background with a torso (a shirt-coloured trapezoid) under where the head sits, its
 * top `top` of the way down. */
export function backgroundWithTorso(w: number, h: number, top = TORSO_TOP): RgbFrame {
  const bg = testBackground(w, h);
  for (let y = Math.round(h * top); y < h; y++) {
    const half = w * (0.2 + (0.25 * (y - h * top)) / (h * (1 - top)));
    for (let x = Math.max(0, Math.round(w / 2 - half)); x < Math.min(w, Math.round(w / 2 + half)); x++) bg.rgb.set(TORSO_RGB, (y * w + x) * 3);
  }
  return bg;
}

/** The torso's top row and colour in `backgroundWithTorso`. */
export const TORSO_TOP = 0.72;
export const TORSO_RGB = [40, 60, 110] as const;

/**
 * `backgroundWithTorso` with a neck: a column of the face's skin colour from behind the chin (where
 * the head sits at `pose`) down to the torso, darker towards its sides and under the jaw, and
 * shoulders rising to its base (the torso's top `torsoTop` of the way down). A person
 * segmenter joins head and torso through it, as on a real person; without it, the gap under the
 * floating face reads as a neck anyway. Returns the frame and the neck's pixels (1) so a test can
 * label its truth.
 */
export function backgroundWithNeck(w: number, h: number, head: TexturedMesh, pose: HeadPose, focal: number, torsoTop = TORSO_TOP): { frame: RgbFrame; neck: Uint8Array } {
  const frame = backgroundWithTorso(w, h, torsoTop);
  const xy = projectPoints(head.vertices, pose, { f: focal, cx: w / 2, cy: h / 2 });
  const proj = (v: number): [number, number] => [xy[v * 2], xy[v * 2 + 1]];
  // Chin (152), jaw corners (172, 397), forehead (10): the neck's column, width and tuck.
  const [chin, left, right, top] = [proj(152), proj(172), proj(397), proj(10)];
  const half = 0.4 * Math.abs(right[0] - left[0]);
  const y0 = Math.round(chin[1] - 0.2 * (chin[1] - top[1]));
  const y1 = Math.round(h * torsoTop);
  // Skin: the photo's mean colour at the cheeks and chin (texture coordinates of those vertices).
  const skin = [0, 0, 0];
  const at = [50, 280, 199, 419, 175];
  for (const v of at) {
    const o = (Math.round(head.uv[v * 2 + 1]) * head.texture.width + Math.round(head.uv[v * 2])) * 3;
    for (let c = 0; c < 3; c++) skin[c] += head.texture.rgb[o + c] / at.length;
  }
  // Shoulders sloping up to the neck's base (a person's trapezius), in the shirt's colour, the
  // segmenter's idea of a person rather than the torso's flat top.
  const shoulder = 0.2 * w;
  const rise = 0.045 * h;
  for (let y = Math.max(0, Math.floor(y1 - rise)); y < y1; y++) {
    for (let x = Math.max(0, Math.ceil(chin[0] - shoulder)); x < Math.min(w, Math.floor(chin[0] + shoulder)); x++) {
      const out = Math.max(0, Math.abs(x + 0.5 - chin[0]) - half) / (shoulder - half);
      if (y1 - y <= rise * (1 - out * out)) frame.rgb.set(TORSO_RGB, (y * w + x) * 3);
    }
  }
  const neck = new Uint8Array(w * h);
  for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
    for (let x = Math.max(0, Math.ceil(chin[0] - half)); x < Math.min(w, Math.floor(chin[0] + half)); x++) {
      const side = Math.abs(x + 0.5 - chin[0]) / half;
      const shade = (1 - 0.35 * side * side) * (0.75 + (0.2 * (y - y0)) / Math.max(1, y1 - y0));
      frame.rgb.set(skin.map((c) => Math.min(255, Math.round(c * shade))), (y * w + x) * 3);
      neck[y * w + x] = 1;
    }
  }
  return { frame, neck };
}

/**
 * Per-pixel truth (PARSING_LABEL values) of a head drawn by `renderHead` over a background from
 * `backgroundWithNeck`: head where the head covers the frame (the frame drawn over two different
 * plain backgrounds differs only off the head), else neck on the neck's pixels, torso on the
 * shirt's colour, background elsewhere.
 */
export function renderTruthLabels(head: TexturedMesh, pose: HeadPose, focal: number, scene: { frame: RgbFrame; neck: Uint8Array }): Uint8Array {
  const { width: w, height: h } = scene.frame;
  const plain = (v: number): RgbFrame => ({ width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(v) });
  const a = renderHead(head, pose, focal, plain(0));
  const b = renderHead(head, pose, focal, plain(255));
  const labels = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const o = i * 3;
    const covered = a.rgb[o] === b.rgb[o] && a.rgb[o + 1] === b.rgb[o + 1] && a.rgb[o + 2] === b.rgb[o + 2];
    const shirt = scene.frame.rgb[o] === TORSO_RGB[0] && scene.frame.rgb[o + 1] === TORSO_RGB[1] && scene.frame.rgb[o + 2] === TORSO_RGB[2];
    labels[i] = covered ? PARSING_LABEL.head : scene.neck[i] ? PARSING_LABEL.neck : shirt ? PARSING_LABEL.torso : PARSING_LABEL.background;
  }
  return labels;
}

export interface VideoOptions {
  frames: number;
  width: number;
  height: number;
  focal: number;
  pose?: (i: number) => HeadPose;
  /** Extra heads (e.g. a second person) drawn at these poses. */
  extra?: ((i: number) => HeadPose)[];
  /** Replaces frame i entirely (e.g. blank frames). */
  override?: (i: number) => RgbFrame | null;
  /** The head to draw at frame i instead of \`head\` (a moving mouth and lids:
   * \`(i) => articulatedHead(models).frame(talkingState(i))\`); extra heads keep \`head\`. */
  headAt?: (i: number) => TexturedMesh;
}

export function renderedVideo(head: TexturedMesh, o: VideoOptions): FrameSource {
  const bg = backgroundWithTorso(o.width, o.height);
  const pose = o.pose ?? ((i: number) => gentlePose(i));
  return {
    count: o.frames,
    fps: 25,
    read(i) {
      const custom = o.override?.(i);
      if (custom) return Promise.resolve(custom);
      let img = renderHead(o.headAt?.(i) ?? head, pose(i), o.focal, bg);
      for (const p of o.extra ?? []) img = renderHead(head, p(i), o.focal, img);
      return Promise.resolve(img);
    },
  };
}

/** Lip and eyelid contours, each list from the subject's right to left (image left to right), so
 * that the k-th entries of an upper and a lower list face each other across the opening. */
const UPPER_INNER_LIP = [191, 80, 81, 82, 13, 312, 311, 310, 415];
const LOWER_INNER_LIP = [95, 88, 178, 87, 14, 317, 402, 318, 324];
const LOWER_OUTER_LIP = [146, 91, 181, 84, 17, 314, 405, 321, 375];
const MOUTH_CORNERS = [61, 78, 291, 308];
/** Eyelid margins, outer corner to inner corner: [corners, upper lid, lower lid] per eye. */
const EYES: { corners: [number, number]; upper: number[]; lower: number[] }[] = [
  { corners: [33, 133], upper: [246, 161, 160, 159, 158, 157, 173], lower: [7, 163, 144, 145, 153, 154, 155] },
  { corners: [263, 362], upper: [466, 388, 387, 386, 385, 384, 398], lower: [249, 390, 373, 374, 380, 381, 382] },
];
/** Eyebrow vertices (two rows), held still while the lids move. */
const BROWS = [70, 63, 105, 66, 107, 46, 53, 52, 65, 55, 300, 293, 334, 296, 336, 276, 283, 282, 295, 285];

export interface ArticulatedState {
  /** The inner lips' opening at the middle (vertices 13-14), cm: 0 closed, the photo's own
   * opening (`ArticulatedHead.photoOpening`, 1.22 cm) as photographed, more is wider. */
  mouth: number;
  /** 0 open (the photo's eyes), 1 shut: the upper lids' share of the way to the lower lids. */
  blink: number;
}

export interface ArticulatedHead {
  /** Vertices 0-467 are the face (the known landmarks), the rest the mouth's and eyes' interiors. */
  head: TexturedMesh;
  photoOpening: number;
  /** The whole vertex array (face and interiors) for a mouth opening and a blink. */
  at(state: ArticulatedState): Float32Array;
  /** The head to draw for a state: \`at\`'s vertices, and texture coordinates in which the upper lids'
   * skin slides down with them (the lid unfolding), the lash line riding on the margin. */
  frame(state: ArticulatedState): TexturedMesh;
}

/**
 * The photo-shaped head (shape 'photo') with a mouth that closes and opens over its teeth and eyes
 * that blink, every face vertex 0-467 still a known landmark. The face mesh loses its triangles
 * inside the lips' and the lids' inner contours; behind each opening sits its own surface:
 * - the mouth: a curved sheet 0.6 cm behind the inner lips, from 0.5 cm beyond each corner and
 *   from the upper lip to 2 cm below the photo's lower lip, textured with the photo's teeth where
 *   the photo shows them (inside its inner-lip contour) and a dark cavity elsewhere (a second copy
 *   of the photo stacked under it in the texture);
 * - each eye: the eye's own triangles 0.25 cm back, spread 1.3x about the eye's centre (texture
 *   coordinates spread alike), so that no view sees past its edge.
 * The lips keep their pixels and slide over the interior: the lower lip (inner and outer contour
 * alike) moves along each facing pair's gap, to meet the upper lip at `mouth` 0 (the skin around
 * follows harmonically; corners, upper lip, stable points and outline held).
 * The upper lids: each margin vertex moves `blink` of the way to its lower partner, the lid's skin
 * follows harmonically (brows, lower lids, corners, lips held). So that the lashes do not smear
 * over the closing eye, the margin is a strip of its own: the lash line (the photo's 0.1 cm just
 * above the margin) keeps its height and rides down on the margin. Drawn with \`frame(state)\`, the
 * lid's skin also slides: each vertex the lid moves down shows the photo's skin half as far above it
 * as it moved (a lid unfolding; stretching alone drags the lid's dark fold over the whole eye).
 */
export function articulatedHead(models: FaceModels, shape: HeadShape = 'photo'): ArticulatedHead {
  const base = astronautHead(models, { shape });
  const V = base.vertices;
  const { texture: photo, uv } = base;
  const C = models.canonical;
  const W = photo.width;
  const H = photo.height;
  const sub = (a: number, b: number) => [0, 1, 2].map((d) => V[a * 3 + d] - V[b * 3 + d]);
  const photoOpening = Math.hypot(...sub(13, 14));
  // The lower lip's displacement field for a full close (from the photo's opening to 0).
  const lipSet = new Map<number, number[]>();
  LOWER_INNER_LIP.forEach((v, k) => {
    const gap = sub(UPPER_INNER_LIP[k], v);
    lipSet.set(v, gap);
    lipSet.set(LOWER_OUTER_LIP[k], gap);
  });
  for (const v of LIP_VERTICES) if (!lipSet.has(v)) lipSet.set(v, [0, 0, 0]);
  for (const v of MOUTH_CORNERS) lipSet.set(v, [0, 0, 0]);
  const close = harmonicOffsets(C, lipSet);
  // The upper lids' field for a full blink.
  const lidSet = new Map<number, number[]>();
  for (const eye of EYES) {
    for (const v of [...eye.corners, ...eye.lower]) lidSet.set(v, [0, 0, 0]);
    eye.upper.forEach((v, k) => lidSet.set(v, sub(eye.lower[k], v)));
  }
  const blinkField = harmonicOffsets(C, lidSet, [...BROWS, ...LIP_VERTICES]);

  // Triangles: the face without those inside the inner lips and the lid margins.
  const inMouth = new Set([...UPPER_INNER_LIP, ...LOWER_INNER_LIP, 78, 308]);
  const eyeSets = EYES.map((e) => new Set([...e.corners, ...e.upper, ...e.lower]));
  const T = C.triangles;
  const faceTris: number[] = [];
  const eyeTris: number[][] = [[], []];
  for (let k = 0; k < T.length; k += 3) {
    const t = [T[k], T[k + 1], T[k + 2]];
    if (t.every((v) => inMouth.has(v))) continue;
    const e = eyeSets.findIndex((s) => t.every((v) => s.has(v)));
    if (e >= 0) eyeTris[e].push(...t);
    else faceTris.push(...t);
  }
  const extraV: number[] = [];
  const extraUv: number[] = [];
  let next = V.length / 3;
  const add = (p: ArrayLike<number>, u: ArrayLike<number>): number => {
    extraV.push(p[0], p[1], p[2]);
    extraUv.push(u[0], u[1]);
    return next++;
  };
  // Lash strips: per eye, across the outer corner, the 7 upper-margin vertices and the inner
  // corner, a top row LASH cm above the margin (the lid skin's lower edge: the face's triangles
  // take it instead of the margin) and a bottom row on the margin, the photo's pixels between.
  const LASH = 0.1;
  const SLIDE = 0.5;
  const strips = EYES.map((eye, e) => {
    const vs = [...eyeSets[e], ...eye.upper.map((v) => v)];
    // Template (x, y) -> photo pixel, linear part, fitted on the eye's vertices.
    const fit = [0, 1].map((d) => lstsq(vs.map((v) => [V[v * 3], V[v * 3 + 1], 1]), vs.map((v) => uv[v * 2 + d])));
    const cols = [eye.corners[0], ...eye.upper, eye.corners[1]];
    const lift = cols.map((_, j) => (j === 0 || j === cols.length - 1 ? 0 : j === 1 || j === cols.length - 2 ? LASH / 2 : LASH));
    const top = cols.map((v, j) => (lift[j] === 0 ? v : add([V[v * 3], V[v * 3 + 1] + lift[j], V[v * 3 + 2]], [uv[v * 2] + fit[0][1] * lift[j], uv[v * 2 + 1] + fit[1][1] * lift[j]])));
    const bottom = cols.map((v, j) => (lift[j] === 0 ? v : add([V[v * 3], V[v * 3 + 1], V[v * 3 + 2]], [uv[v * 2], uv[v * 2 + 1]])));
    return { cols, lift, top, bottom, linear: [fit[0][0], fit[0][1], fit[1][0], fit[1][1]] };
  });
  const topOf = new Map<number, number>();
  for (const s of strips) s.cols.forEach((v, j) => topOf.set(v, s.top[j]));
  const tris = faceTris.map((v) => topOf.get(v) ?? v);
  for (const { top, bottom } of strips) for (let j = 0; j + 1 < top.length; j++) tris.push(top[j], top[j + 1], bottom[j + 1], top[j], bottom[j + 1], bottom[j]);
  // Eyes: their own triangles, spread about the centre and pushed back.
  EYES.forEach((eye, e) => {
    const vs = [...eyeSets[e]];
    const c = [0, 1, 2].map((d) => vs.reduce((s, v) => s + V[v * 3 + d], 0) / vs.length);
    const cu = [0, 1].map((d) => vs.reduce((s, v) => s + uv[v * 2 + d], 0) / vs.length);
    const index = new Map<number, number>();
    for (const v of vs) index.set(v, add([c[0] + 1.3 * (V[v * 3] - c[0]), c[1] + 1.3 * (V[v * 3 + 1] - c[1]), V[v * 3 + 2] - 0.25], [cu[0] + 1.3 * (uv[v * 2] - cu[0]), cu[1] + 1.3 * (uv[v * 2 + 1] - cu[1])]));
    for (const v of eyeTris[e]) tris.push(index.get(v)!);
  });
  // Mouth: texture coordinates by the affine map (template x, y -> photo pixel) fitted on the 40
  // lip vertices; depth a parabola in x through the inner lips' depth, 0.6 cm back.
  const affine = [0, 1].map((d) => lstsq(LIP_VERTICES.map((v) => [V[v * 3], V[v * 3 + 1], 1]), LIP_VERTICES.map((v) => uv[v * 2 + d])));
  const inner = [...UPPER_INNER_LIP, ...LOWER_INNER_LIP, 78, 308];
  const depth = lstsq(inner.map((v) => [1, V[v * 3], V[v * 3] ** 2]), inner.map((v) => V[v * 3 + 2]));
  const xs = [V[78 * 3], V[308 * 3]];
  const [x0, x1] = [Math.min(...xs) - 0.5, Math.max(...xs) + 0.5];
  const y1 = Math.max(...UPPER_INNER_LIP.map((v) => V[v * 3 + 1])) + 0.3;
  const y0 = Math.min(...LOWER_INNER_LIP.map((v) => V[v * 3 + 1])) - 2;
  const [NX, NY] = [16, 10];
  const first = next;
  for (let j = 0; j <= NY; j++) {
    for (let i = 0; i <= NX; i++) {
      const x = x0 + ((x1 - x0) * i) / NX;
      const y = y0 + ((y1 - y0) * j) / NY;
      add([x, y, depth[0] + depth[1] * x + depth[2] * x * x - 0.6], [affine[0][0] * x + affine[0][1] * y + affine[0][2], affine[1][0] * x + affine[1][1] * y + affine[1][2] + H]);
    }
  }
  for (let j = 0; j < NY; j++) {
    for (let i = 0; i < NX; i++) {
      const a = first + j * (NX + 1) + i;
      tris.push(a, a + 1, a + NX + 2, a, a + NX + 2, a + NX + 1);
    }
  }
  // Texture: the photo, and under it a copy whose mouth is the photo's inside the inner-lip contour
  // (teeth) and a dark cavity outside it.
  const poly = [78, ...UPPER_INNER_LIP, 308, ...[...LOWER_INNER_LIP].reverse()].map((v) => [uv[v * 2], uv[v * 2 + 1]]);
  const rgb = new Uint8Array(W * H * 6);
  rgb.set(photo.rgb);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = ((H + y) * W + x) * 3;
      if (insidePolygon(poly, x + 0.5, y + 0.5)) rgb.set(photo.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3), o);
      else rgb.set([38, 14, 18], o);
    }
  }
  const n0 = V.length;
  const vertices = new Float32Array(n0 + extraV.length);
  vertices.set(V);
  vertices.set(extraV, n0);
  const allUv = new Float32Array(uv.length + extraUv.length);
  allUv.set(uv);
  allUv.set(extraUv, uv.length);
  const head: TexturedMesh = { vertices, triangles: Uint32Array.from(tris), uv: allUv, texture: { width: W, height: 2 * H, rgb } };
  return {
    head,
    photoOpening,
    at({ mouth, blink }) {
      const c = 1 - mouth / photoOpening;
      const out = Float32Array.from(vertices);
      for (let k = 0; k < n0; k++) out[k] += c * close[k] + blink * blinkField[k];
      // The lash strips ride on the margin: bottom on it, top LASH cm above it (template y).
      for (const { cols, lift, top, bottom } of strips) {
        cols.forEach((v, j) => {
          if (lift[j] === 0) return;
          for (let d = 0; d < 3; d++) {
            out[bottom[j] * 3 + d] = out[v * 3 + d];
            out[top[j] * 3 + d] = out[v * 3 + d] + (d === 1 ? lift[j] : 0);
          }
        });
      }
      return out;
    },
    frame(state) {
      const out = Float32Array.from(allUv);
      const k = SLIDE * state.blink;
      if (k !== 0) {
        // Each vertex the lid moves shows the photo's skin as far above it as it moved down.
        const slide = (e: number, v: number): [number, number] => {
          const L = strips[e].linear;
          const [dx, dy] = [blinkField[v * 3], blinkField[v * 3 + 1]];
          return [-k * (L[0] * dx + L[1] * dy), -k * (L[2] * dx + L[3] * dy)];
        };
        for (let v = 0; v < n0 / 3; v++) {
          if (blinkField[v * 3] === 0 && blinkField[v * 3 + 1] === 0) continue;
          const [du, dv] = slide(V[v * 3] < 0 ? 0 : 1, v);
          out[v * 2] += du;
          out[v * 2 + 1] += dv;
        }
        strips.forEach(({ cols, lift, top }, e) => {
          cols.forEach((v, j) => {
            if (lift[j] === 0) return;
            const [du, dv] = slide(e, v);
            out[top[j] * 2] += du;
            out[top[j] * 2 + 1] += dv;
          });
        });
      }
      return { ...head, vertices: this.at(state), uv: out };
    },
  };
}

/** A talking trajectory for `articulatedHead`, frame `i` at 25 fps: the inner lips' opening
 * 1 + 1.1 sin(2 pi i / 6.3 + 3 phase) cm, clamped to 0-2 (closed on about one frame in eight,
 * wider than the photo's 1.22 cm at the peaks: a syllable every quarter second), and a blink
 * (lid 0.4, 1, 0.6 of the way shut on three frames) every 12 frames, shifted by `phase`. */
export function talkingState(i: number, phase = 0): ArticulatedState {
  const mouth = Math.min(2, Math.max(0, 1 + 1.1 * Math.sin((2 * Math.PI * i) / 6.3 + 3 * phase)));
  const blink = [0, 0, 0, 0, 0, 0, 0, 0.4, 1, 0.6, 0, 0][(((i + Math.round(5 * phase)) % 12) + 12) % 12];
  return { mouth, blink };
}

/** Least squares: x minimising |A x - b| (normal equations; a few unknowns). */
function lstsq(A: number[][], b: number[]): number[] {
  const m = A[0].length;
  const N = Array.from({ length: m }, (_, i) => Array.from({ length: m + 1 }, (_, j) => A.reduce((s, row, r) => s + row[i] * (j < m ? row[j] : b[r]), 0)));
  for (let i = 0; i < m; i++) {
    for (let r = i + 1; r < m; r++) {
      const f = N[r][i] / N[i][i];
      for (let j = i; j <= m; j++) N[r][j] -= f * N[i][j];
    }
  }
  const x = new Array<number>(m).fill(0);
  for (let i = m - 1; i >= 0; i--) x[i] = (N[i][m] - N[i].slice(i + 1, m).reduce((s, v, j) => s + v * x[i + 1 + j], 0)) / N[i][i];
  return x;
}

function insidePolygon(poly: number[][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
