/**
 * Whether a set of head poses explains the tracked face meshes as one rigid scene
 * (fit-video.ts searchRelief): the pixel residual of the meshes' stable points triangulated
 * through the cameras.
 */
import { reprojectionSse, triangulatePoint } from './structure.ts';
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
    const seen = { views: meshes, stride: 3, index: i };
    triangulatePoint(X, seen, poses, k, { iterations: 6, tolerance: 1e-6, ridge: 1e-9 });
    sse += wi * reprojectionSse(X, seen, poses, k);
    wsum += wi * meshes.length;
  }
  return Math.sqrt(sse / wsum);
}
