/**
 * Whether a set of head poses explains the tracked face meshes as one rigid scene
 * (fit-video.ts searchRelief): the pixel residual of the meshes' stable points triangulated
 * through the cameras.
 */
import { solveSpd } from './linalg.ts';
import type { HeadPose, Intrinsics } from './pose-solver.ts';

/**
 * How well the cameras `poses` (one per mesh, at intrinsics k) explain the tracked meshes' stable
 * points as one rigid scene: each point with a positive Procrustes weight is triangulated through
 * all the cameras (Gauss-Newton from the canonical face, no prior), and the weighted RMS of what
 * remains, pixels. Cameras that turn the head too much or too little for its real depth leave a
 * residual that grows with the motion; landmark noise leaves the same floor at every relief.
 */
export function landmarkResidual(meshes: Float32Array[], poses: HeadPose[], k: Intrinsics, canonical: { vertices: ArrayLike<number>; weights: ArrayLike<number> }): number {
  let sse = 0;
  let wsum = 0;
  const n = canonical.weights.length;
  for (let i = 0; i < n; i++) {
    const wi = canonical.weights[i];
    if (!(wi > 0)) continue;
    const X = [canonical.vertices[i * 3], canonical.vertices[i * 3 + 1], canonical.vertices[i * 3 + 2]];
    const residual = (accumulate: boolean, H?: Float64Array, g?: Float64Array) => {
      let e = 0;
      meshes.forEach((m, j) => {
        const { R, t } = poses[j];
        const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0];
        const y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1];
        const z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
        if (!(z > 1e-6)) return;
        const ru = (k.f * x) / z + k.cx - m[i * 3];
        const rv = (k.f * y) / z + k.cy - m[i * 3 + 1];
        e += ru * ru + rv * rv;
        if (!accumulate) return;
        const a = k.f / z;
        const ju = [0, 1, 2].map((c) => a * R[c] - ((k.f * x) / (z * z)) * R[6 + c]);
        const jv = [0, 1, 2].map((c) => a * R[3 + c] - ((k.f * y) / (z * z)) * R[6 + c]);
        for (let r = 0; r < 3; r++) {
          g![r] += ju[r] * ru + jv[r] * rv;
          for (let c = 0; c < 3; c++) H![r * 3 + c] += ju[r] * ju[c] + jv[r] * jv[c];
        }
      });
      return e;
    };
    for (let it = 0; it < 6; it++) {
      const H = new Float64Array(9);
      const g = new Float64Array(3);
      residual(true, H, g);
      for (let d = 0; d < 3; d++) H[d * 4] *= 1 + 1e-9;
      const step = g.map((v) => -v);
      if (!solveSpd(H, step, 3)) break;
      for (let d = 0; d < 3; d++) X[d] += step[d];
      if (Math.hypot(step[0], step[1], step[2]) < 1e-6) break;
    }
    sse += wi * residual(false);
    wsum += wi * meshes.length;
  }
  return Math.sqrt(sse / wsum);
}
