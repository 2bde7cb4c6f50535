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
  const H = new Float64Array(9);
  const g = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    if (!(tpl.weights[i] > 0)) continue;
    for (let it = 0; it < iterations; it++) {
      const X = [points[i * 3], points[i * 3 + 1], points[i * 3 + 2]];
      H.fill(0);
      g.fill(0);
      for (let d = 0; d < 3; d++) {
        H[d * 4] += lambda;
        g[d] += lambda * (X[d] - canonical[i * 3 + d]);
      }
      frames.forEach((fr, j) => {
        const { R, t } = poses[j];
        const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0];
        const y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1];
        const z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
        if (!(z > 1e-6)) return;
        const ru = (k.f * x) / z + k.cx - fr.obs[i * 2];
        const rv = (k.f * y) / z + k.cy - fr.obs[i * 2 + 1];
        // d(u,v)/dX = d(u,v)/d(x,y,z) * R
        const a = k.f / z;
        const ju = [0, 1, 2].map((c) => a * R[c] - ((k.f * x) / (z * z)) * R[6 + c]);
        const jv = [0, 1, 2].map((c) => a * R[3 + c] - ((k.f * y) / (z * z)) * R[6 + c]);
        for (let r = 0; r < 3; r++) {
          g[r] += ju[r] * ru + jv[r] * rv;
          for (let c = 0; c < 3; c++) H[r * 3 + c] += ju[r] * ju[c] + jv[r] * jv[c];
        }
      });
      const step = g.map((v) => -v);
      if (!solveSpd(Float64Array.from(H), step, 3)) break;
      for (let d = 0; d < 3; d++) points[i * 3 + d] += step[d];
      if (Math.hypot(step[0], step[1], step[2]) < 1e-5) break;
    }
  }
  return { points, weights: tpl.weights };
}
