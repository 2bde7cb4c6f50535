/**
 * Test videos with known ground truth: the astronaut photo (test-only fixture) textured onto
 * the canonical face, at poses from a trajectory, over a static background with a static
 * torso, as a FrameSource the preparation pipeline reads like any other.
 */
import { readFileSync } from 'node:fs';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import type { CanonicalFace } from '../../worker/face/canonical.ts';
import { FaceTracker, type FaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import type { FrameSource } from '../../worker/prepare/pipeline.ts';
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
  shape?: 'canonical' | 'photo' | 'photo-mouth';
}

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
  const vertices =
    opts.shape === 'photo' ? meshInTemplate(mesh.points, models.canonical) : opts.shape === 'photo-mouth' ? withMouthOf(meshInTemplate(mesh.points, models.canonical), models.canonical) : models.canonical.vertices;
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
export function withMouthOf(shaped: Float32Array, canonical: CanonicalFace): Float32Array {
  const C = canonical.vertices;
  const set = new Map<number, number[]>();
  for (const v of LIP_VERTICES) set.set(v, [0, 1, 2].map((d) => shaped[v * 3 + d] - C[v * 3 + d]));
  const off = harmonicOffsets(canonical, set);
  return Float32Array.from(C, (c, k) => c + off[k]);
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
function harmonicOffsets(canonical: CanonicalFace, set: Map<number, number[]>): Float64Array {
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

/** The static background with a torso (a shirt-coloured trapezoid) under where the head sits. */
export function backgroundWithTorso(w: number, h: number): RgbFrame {
  const bg = testBackground(w, h);
  for (let y = Math.round(h * 0.72); y < h; y++) {
    const half = w * (0.2 + (0.25 * (y - h * 0.72)) / (h * 0.28));
    for (let x = Math.max(0, Math.round(w / 2 - half)); x < Math.min(w, Math.round(w / 2 + half)); x++) bg.rgb.set([40, 60, 110], (y * w + x) * 3);
  }
  return bg;
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
      let img = renderHead(head, pose(i), o.focal, bg);
      for (const p of o.extra ?? []) img = renderHead(head, p(i), o.focal, img);
      return Promise.resolve(img);
    },
  };
}
