/**
 * The subject's own face shape: the template's stable points re-triangulated from all frames'
 * observations with the poses held fixed (the structure half of a bundle adjustment). A real
 * face is not MediaPipe's canonical one, and the landmark model has a consistent bias of its
 * own; fitting a rigid but wrong shape bends the focal length and the poses to compensate.
 * A weak pull towards the canonical face fixes the gauge (scale, placement) and keeps the
 * barely observed depth axis sensible when the head hardly turns.
 */
import { solveSpd } from './linalg.ts';
import type { FrameObservation, HeadPose, Intrinsics, PoseTemplate } from './pose-solver.ts';

/** Prior strength relative to the data: 5% of one axis' information from all frames. */
const PRIOR_SHARE = 0.05;

/** Re-estimates every weighted template point; returns a new template (weights unchanged). */
export function fitStructure(tpl: PoseTemplate, canonical: Float64Array, frames: FrameObservation[], poses: HeadPose[], k: Intrinsics, iterations = 4): PoseTemplate {
  const n = tpl.weights.length;
  const points = Float64Array.from(tpl.points);
  const meanDepth = poses.reduce((s, p) => s + p.t[2], 0) / poses.length;
  const lambda = PRIOR_SHARE * frames.length * (k.f / meanDepth) ** 2;
  const views = frames.map((fr) => fr.obs);
  for (let i = 0; i < n; i++) {
    if (!(tpl.weights[i] > 0)) continue;
    const X = [points[i * 3], points[i * 3 + 1], points[i * 3 + 2]];
    triangulatePoint(X, { views, stride: 2, index: i }, poses, k, { iterations, tolerance: 1e-5, prior: { lambda, at: [canonical[i * 3], canonical[i * 3 + 1], canonical[i * 3 + 2]] } });
    for (let d = 0; d < 3; d++) points[i * 3 + d] = X[d];
  }
  return { points, weights: tpl.weights };
}

/** Where one point is seen in every view: views[j][index * stride + (0 | 1)], pixels. */
export interface PointViews {
  views: ArrayLike<number>[];
  stride: number;
  index: number;
}

/**
 * Squared reprojection error of X through every camera (views behind a camera are skipped); with
 * H and g, also adds the Gauss-Newton normal equations of X to them.
 */
export function reprojectionSse(X: number[], seen: PointViews, poses: HeadPose[], k: Intrinsics, H?: Float64Array, g?: Float64Array): number {
  let e = 0;
  seen.views.forEach((m, j) => {
    const { R, t } = poses[j];
    const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0];
    const y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1];
    const z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
    if (!(z > 1e-6)) return;
    const ru = (k.f * x) / z + k.cx - m[seen.index * seen.stride];
    const rv = (k.f * y) / z + k.cy - m[seen.index * seen.stride + 1];
    e += ru * ru + rv * rv;
    if (!H || !g) return;
    // d(u,v)/dX = d(u,v)/d(x,y,z) * R
    const a = k.f / z;
    const ju = [0, 1, 2].map((c) => a * R[c] - ((k.f * x) / (z * z)) * R[6 + c]);
    const jv = [0, 1, 2].map((c) => a * R[3 + c] - ((k.f * y) / (z * z)) * R[6 + c]);
    for (let r = 0; r < 3; r++) {
      g[r] += ju[r] * ru + jv[r] * rv;
      for (let c = 0; c < 3; c++) H[r * 3 + c] += ju[r] * ju[c] + jv[r] * jv[c];
    }
  });
  return e;
}

export interface TriangulateOptions {
  iterations: number;
  /** Stop once a step is shorter than this (template units). */
  tolerance: number;
  /** A pull of strength lambda towards `at` (fixes the gauge when the views barely constrain X). */
  prior?: { lambda: number; at: number[] };
  /** Relative ridge on the normal equations' diagonal, for a point triangulated with no prior. */
  ridge?: number;
}

/** Gauss-Newton on one point X (updated in place) from where the fixed cameras see it. */
export function triangulatePoint(X: number[], seen: PointViews, poses: HeadPose[], k: Intrinsics, opts: TriangulateOptions): void {
  for (let it = 0; it < opts.iterations; it++) {
    const H = new Float64Array(9);
    const g = new Float64Array(3);
    if (opts.prior) {
      for (let d = 0; d < 3; d++) {
        H[d * 4] += opts.prior.lambda;
        g[d] += opts.prior.lambda * (X[d] - opts.prior.at[d]);
      }
    }
    reprojectionSse(X, seen, poses, k, H, g);
    if (opts.ridge) for (let d = 0; d < 3; d++) H[d * 4] *= 1 + opts.ridge;
    const step = g.map((v) => -v);
    if (!solveSpd(H, step, 3)) break;
    for (let d = 0; d < 3; d++) X[d] += step[d];
    if (Math.hypot(step[0], step[1], step[2]) < opts.tolerance) break;
  }
}
