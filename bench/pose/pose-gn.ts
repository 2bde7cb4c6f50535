/**
 * The 6-DOF Gauss-Newton step shared by the pose benches that re-fit one camera to known points
 * (pose-err.ts: the landmark residual's per-frame correction; outline-err.ts: cameras adjusted to
 * the truth's outline points). A left-multiplied small rotation w and a translation tau.
 */
import { solveSpd } from '../../worker/face/linalg.ts';

/**
 * Adds one reprojection's rows to the normal equations. c: the point in camera space; d: c less
 * the rotation centre (d(cam)/d(w) = -[d]x, so a row dd of d(u,v)/d(cam) gives d x dd); e: the
 * residual (u, v) in pixels; f: focal in pixels.
 */
export function addReprojection(H: Float64Array, g: Float64Array, c: number[], d: number[], e: number[], f: number): void {
  const du = [f / c[2], 0, (-f * c[0]) / c[2] ** 2];
  const dv = [0, f / c[2], (-f * c[1]) / c[2] ** 2];
  const J = [du, dv].map((dd) => [d[1] * dd[2] - d[2] * dd[1], d[2] * dd[0] - d[0] * dd[2], d[0] * dd[1] - d[1] * dd[0], dd[0], dd[1], dd[2]]);
  for (let r = 0; r < 2; r++) for (let a = 0; a < 6; a++) {
    g[a] += J[r][a] * e[r];
    for (let b = 0; b < 6; b++) H[a * 6 + b] += J[r][a] * J[r][b];
  }
}

/** The damped step (w, tau) that the accumulated equations ask for, or null where H is singular. */
export function poseStep(H: Float64Array, g: Float64Array): Float64Array | null {
  for (let a = 0; a < 6; a++) H[a * 7] += 1e-9 + 1e-6 * H[a * 7];
  const step = Float64Array.from(g, (v) => -v);
  return solveSpd(H, step, 6) ? step : null;
}
