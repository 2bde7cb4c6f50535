/** Depth relief of one point set against another (bench/pose/relief-lab.ts): a similarity fit
 * (Horn's quaternion method) of the source with its depth stretched, the stretch searched. */
import type { Mat3 } from '../../worker/face/linalg.ts';
import { dominantEigenvector } from '../../worker/model/poses.ts';
import { goldenSection } from '../../worker/util/golden-section.ts';

/** Search range of the relief factor and golden-section steps on its log. */
const RELIEF_RANGE: [number, number] = [0.25, 4];
const RELIEF_STEPS = 40;

export interface SimilarityFit {
  /** rotation taking the (centred) source onto the (centred) destination, row-major */
  R: Mat3;
  scale: number;
  /** weighted sum of squared residuals */
  sse: number;
}

/** Weighted similarity (rotation and one scale, centroids matched) of src onto dst: Horn's quaternion method. */
export function similarityFit(src: number[][], dst: number[][], w: number[]): SimilarityFit {
  const n = src.length;
  const W = w.reduce((s, x) => s + x, 0);
  const ca = [0, 1, 2].map((d) => src.reduce((s, p, i) => s + w[i] * p[d], 0) / W);
  const cb = [0, 1, 2].map((d) => dst.reduce((s, p, i) => s + w[i] * p[d], 0) / W);
  const S = new Float64Array(9);
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const a = [0, 1, 2].map((d) => src[i][d] - ca[d]);
    const b = [0, 1, 2].map((d) => dst[i][d] - cb[d]);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) S[r * 3 + c] += w[i] * a[r] * b[c];
    aa += w[i] * (a[0] ** 2 + a[1] ** 2 + a[2] ** 2);
    bb += w[i] * (b[0] ** 2 + b[1] ** 2 + b[2] ** 2);
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  const N = Float64Array.from([
    xx + yy + zz, yz - zy, zx - xz, xy - yx,
    yz - zy, xx - yy - zz, xy + yx, zx + xz,
    zx - xz, xy + yx, -xx + yy - zz, yz + zy,
    xy - yx, zx + xz, yz + zy, -xx - yy + zz,
  ]);
  const q = new Float64Array(4);
  dominantEigenvector(N, q);
  const [q0, qx, qy, qz] = q;
  const R: Mat3 = Float64Array.from([
    q0 * q0 + qx * qx - qy * qy - qz * qz, 2 * (qx * qy - q0 * qz), 2 * (qx * qz + q0 * qy),
    2 * (qy * qx + q0 * qz), q0 * q0 - qx * qx + qy * qy - qz * qz, 2 * (qy * qz - q0 * qx),
    2 * (qz * qx - q0 * qy), 2 * (qz * qy + q0 * qx), q0 * q0 - qx * qx - qy * qy + qz * qz,
  ]);
  // sum of b . R a over the points = trace(R S^T ... ): computed directly
  let dot = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) dot += R[r * 3 + c] * S[c * 3 + r];
  const scale = aa > 0 ? dot / aa : 0;
  return { R, scale, sse: Math.max(0, bb - scale * dot) };
}

/** src with its z stretched by `relief` about its weighted centroid. */
export function stretchDepth(src: number[][], w: number[], relief: number): number[][] {
  const W = w.reduce((s, x) => s + x, 0);
  const cz = src.reduce((s, p, i) => s + w[i] * p[2], 0) / W;
  return src.map((p) => [p[0], p[1], cz + relief * (p[2] - cz)]);
}

export interface ReliefFit extends SimilarityFit {
  relief: number;
  /** weighted RMS residual, destination units */
  rms: number;
}

/** The relief (z stretch of src) whose similarity fit onto dst leaves the least residual. */
export function reliefFit(src: number[][], dst: number[][], w: number[]): ReliefFit {
  const W = w.reduce((s, x) => s + x, 0);
  const at = (l: number) => similarityFit(stretchDepth(src, w, Math.exp(l)), dst, w);
  const bracket = goldenSection((l) => at(l).sse, Math.log(RELIEF_RANGE[0]), Math.log(RELIEF_RANGE[1]), RELIEF_STEPS);
  const l = (bracket.lo + bracket.hi) / 2;
  const fit = at(l);
  return { ...fit, relief: Math.exp(l), rms: Math.sqrt(fit.sse / W) };
}

export interface MeshRelief {
  /** median over the frames */
  relief: number;
  q1: number;
  q3: number;
  frames: number;
}

/**
 * The relief of the face-mesh model's meshes (frame pixels, z the model's depth in the same
 * scale) relative to the canonical face, over the points with a positive Procrustes weight:
 * the median over frames.
 */
export function meshRelief(meshes: (Float32Array | null)[], canonical: ArrayLike<number>, weights: ArrayLike<number>): MeshRelief {
  const idx = Array.from({ length: weights.length }, (_, i) => i).filter((i) => weights[i] > 0);
  const src = idx.map((i) => [canonical[i * 3], canonical[i * 3 + 1], canonical[i * 3 + 2]]);
  const w = idx.map((i) => weights[i]);
  const reliefs: number[] = [];
  for (const m of meshes) {
    if (!m) continue;
    reliefs.push(reliefFit(src, idx.map((i) => [m[i * 3], m[i * 3 + 1], m[i * 3 + 2]]), w).relief);
  }
  if (reliefs.length === 0) throw new Error('meshRelief: no mesh');
  reliefs.sort((a, b) => a - b);
  const q = (f: number) => reliefs[Math.min(reliefs.length - 1, Math.floor(f * reliefs.length))];
  return { relief: q(0.5), q1: q(0.25), q3: q(0.75), frames: reliefs.length };
}

