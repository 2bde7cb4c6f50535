/**
 * Camera and head pose from 2-D face landmarks: a rigid template (MediaPipe's canonical face,
 * centimetres) seen by one pinhole camera. Per frame, Levenberg-Marquardt on the weighted
 * reprojection error of the template's stable points gives the head pose; the focal length,
 * shared by the whole video, minimises the summed error over a spread of frames (a 1-D
 * golden-section search on log f, the way the reference's tracker scans focal lengths, but
 * continuous). Camera axes here are OpenCV's (x right, y down, z forward); `headTransform`
 * converts to the reference's camera-to-head matrices.
 */
import { goldenSection } from '../util/golden-section.ts';
import { frameFrom, mat3Mul, mat3T, rodrigues, solveSpd, type Mat3 } from './linalg.ts';

export interface Intrinsics {
  f: number;
  cx: number;
  cy: number;
}

/** Template -> camera: p_cam = R p + t (centimetres). */
export interface HeadPose {
  R: Mat3;
  t: [number, number, number];
}

/** The pose moved by a Gauss-Newton step: a left rotation increment (step 0-2, axis-angle) and a
 * translation (step 3-5). */
export function applyPoseStep(pose: HeadPose, step: ArrayLike<number>): HeadPose {
  return { R: mat3Mul(rodrigues([step[0], step[1], step[2]]), pose.R), t: [pose.t[0] + step[3], pose.t[1] + step[4], pose.t[2] + step[5]] };
}

export interface PoseTemplate {
  /** n x 3, centimetres, template axes (x subject's left, y up, z out of the face). */
  points: Float64Array;
  /** n residual weights. */
  weights: Float64Array;
}

/** Weighted squared reprojection error of `pose` (pixels^2). */
export function reprojectionCost(tpl: PoseTemplate, obs: Float64Array, k: Intrinsics, pose: HeadPose): number {
  const { R, t } = pose;
  const n = tpl.weights.length;
  let cost = 0;
  for (let i = 0; i < n; i++) {
    const w = tpl.weights[i];
    if (!w) continue;
    const X = tpl.points[i * 3];
    const Y = tpl.points[i * 3 + 1];
    const Z = tpl.points[i * 3 + 2];
    const x = R[0] * X + R[1] * Y + R[2] * Z + t[0];
    const y = R[3] * X + R[4] * Y + R[5] * Z + t[1];
    const z = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    if (!(z > 1e-6)) return Infinity;
    const du = k.f * x / z + k.cx - obs[i * 2];
    const dv = k.f * y / z + k.cy - obs[i * 2 + 1];
    cost += w * (du * du + dv * dv);
  }
  return cost;
}

/** Levenberg-Marquardt refinement of one frame's pose (rotation as a left-multiplied
 * increment, so no Euler singularities). Returns the refined pose and its cost. */
export function refinePose(tpl: PoseTemplate, obs: Float64Array, k: Intrinsics, init: HeadPose, maxIter = 30): { pose: HeadPose; cost: number } {
  let pose: HeadPose = { R: Float64Array.from(init.R), t: [...init.t] };
  let cost = reprojectionCost(tpl, obs, k, pose);
  let lambda = 1e-3;
  const n = tpl.weights.length;
  const JtJ = new Float64Array(36);
  const Jtr = new Float64Array(6);
  const ju = new Float64Array(6);
  const jv = new Float64Array(6);
  for (let it = 0; it < maxIter && Number.isFinite(cost); it++) {
    JtJ.fill(0);
    Jtr.fill(0);
    const { R, t } = pose;
    for (let i = 0; i < n; i++) {
      if (!tpl.weights[i]) continue;
      const X = tpl.points[i * 3];
      const Y = tpl.points[i * 3 + 1];
      const Z = tpl.points[i * 3 + 2];
      const qx = R[0] * X + R[1] * Y + R[2] * Z;
      const qy = R[3] * X + R[4] * Y + R[5] * Z;
      const qz = R[6] * X + R[7] * Y + R[8] * Z;
      const x = qx + t[0];
      const y = qy + t[1];
      const z = qz + t[2];
      const iz = 1 / z;
      const ru = k.f * x * iz + k.cx - obs[i * 2];
      const rv = k.f * y * iz + k.cy - obs[i * 2 + 1];
      // d(u,v)/d(x,y,z) times dp/d(omega) = -[q]x and dp/dt = I.
      const a = k.f * iz;
      const bu = -k.f * x * iz * iz;
      const bv = -k.f * y * iz * iz;
      // -[q]x = [[0, qz, -qy], [-qz, 0, qx], [qy, -qx, 0]]
      ju[0] = a * 0 + bu * qy;
      ju[1] = a * qz + bu * -qx;
      ju[2] = a * -qy + bu * 0;
      jv[0] = a * -qz + bv * qy;
      jv[1] = 0 + bv * -qx;
      jv[2] = a * qx + 0;
      ju[3] = a;
      ju[4] = 0;
      ju[5] = bu;
      jv[3] = 0;
      jv[4] = a;
      jv[5] = bv;
      const w = tpl.weights[i];
      for (let r = 0; r < 6; r++) {
        Jtr[r] += w * (ju[r] * ru + jv[r] * rv);
        for (let c = 0; c <= r; c++) JtJ[r * 6 + c] += w * (ju[r] * ju[c] + jv[r] * jv[c]);
      }
    }
    for (let r = 0; r < 6; r++) for (let c = 0; c < r; c++) JtJ[c * 6 + r] = JtJ[r * 6 + c];
    let improved = false;
    for (let tries = 0; tries < 10; tries++) {
      const A = Float64Array.from(JtJ);
      for (let d = 0; d < 6; d++) A[d * 6 + d] *= 1 + lambda;
      const step = Jtr.map((v) => -v);
      if (!solveSpd(A, step, 6)) {
        lambda *= 10;
        continue;
      }
      const cand = applyPoseStep(pose, step);
      const c = reprojectionCost(tpl, obs, k, cand);
      if (c < cost) {
        const gain = cost - c;
        pose = cand;
        cost = c;
        lambda = Math.max(lambda / 10, 1e-9);
        improved = gain > 1e-10 * (1 + cost);
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return { pose, cost };
}

/** Indices (into the template) of the points that fix the initial orientation. */
export interface AxisPoints {
  rightEye: number;
  leftEye: number;
  forehead: number;
  chin: number;
}

/**
 * A starting pose from the mesh's own 3-D shape (x, y in frame pixels, z in pixel scale,
 * growing away from the camera, as the face-mesh model outputs it): the face's left-right and
 * chin-forehead axes give the rotation, the eye distance the depth.
 */
export function initialPose(tpl: PoseTemplate, mesh3: Float64Array, obs: Float64Array, k: Intrinsics, axes: AxisPoints): HeadPose {
  const v = (p: Float64Array, a: number, b: number): [number, number, number] => [p[b * 3] - p[a * 3], p[b * 3 + 1] - p[a * 3 + 1], p[b * 3 + 2] - p[a * 3 + 2]];
  const camX = v(mesh3, axes.rightEye, axes.leftEye);
  const camUp = v(mesh3, axes.chin, axes.forehead);
  const tplX = v(tpl.points, axes.rightEye, axes.leftEye);
  const tplUp = v(tpl.points, axes.chin, axes.forehead);
  const R = mat3Mul(mat3T(frameFrom(camX, camUp)), frameFrom(tplX, tplUp));
  const s = Math.hypot(...camX) / Math.hypot(...tplX); // pixels per centimetre
  const depth = k.f / s;
  const n = tpl.weights.length;
  let wsum = 0;
  const c = [0, 0, 0];
  let u = 0;
  let w2 = 0;
  for (let i = 0; i < n; i++) {
    const w = tpl.weights[i];
    wsum += w;
    for (let d = 0; d < 3; d++) c[d] += w * tpl.points[i * 3 + d];
    u += w * obs[i * 2];
    w2 += w * obs[i * 2 + 1];
  }
  const cc = c.map((x) => x / wsum);
  const Rc = [0, 1, 2].map((r) => R[r * 3] * cc[0] + R[r * 3 + 1] * cc[1] + R[r * 3 + 2] * cc[2]);
  const target = [((u / wsum - k.cx) * depth) / k.f, ((w2 / wsum - k.cy) * depth) / k.f, depth];
  return { R, t: [target[0] - Rc[0], target[1] - Rc[1], target[2] - Rc[2]] };
}

export interface FrameObservation {
  /** Template points' observed positions, n x 2 pixels. */
  obs: Float64Array;
  /** The whole mesh (x, y, z) for the initial pose. */
  mesh3: Float64Array;
}

/** Poses of every frame for a given focal; each frame starts from the previous frame's result
 * and from a fresh initial pose, keeping the better (a cut or a lost track cannot poison the rest). */
export function solvePoses(tpl: PoseTemplate, frames: FrameObservation[], k: Intrinsics, axes: AxisPoints): { poses: HeadPose[]; costs: number[] } {
  const poses: HeadPose[] = [];
  const costs: number[] = [];
  let prev: HeadPose | null = null;
  for (const fr of frames) {
    let best = refinePose(tpl, fr.obs, k, initialPose(tpl, fr.mesh3, fr.obs, k, axes));
    if (prev) {
      const warm = refinePose(tpl, fr.obs, k, prev);
      if (warm.cost < best.cost) best = warm;
    }
    poses.push(best.pose);
    costs.push(best.cost);
    prev = best.pose;
  }
  return { poses, costs };
}

/** Alternating bundle adjustment at a fixed focal: poses, then the subject's shape, `rounds`
 * times, then the final poses. Returns the fitted template and the total cost. */
export function adjustAtFocal(tpl: PoseTemplate, frames: FrameObservation[], k: Intrinsics, axes: AxisPoints, rounds: number, structure: StructureFitter | null): { tpl: PoseTemplate; poses: HeadPose[]; costs: number[]; cost: number } {
  let cur = tpl;
  let solved = solvePoses(cur, frames, k, axes);
  for (let r = 0; r < rounds && structure; r++) {
    cur = structure(cur, frames, solved.poses, k);
    solved = solvePoses(cur, frames, k, axes);
  }
  return { tpl: cur, poses: solved.poses, costs: solved.costs, cost: solved.costs.reduce((a, b) => a + b, 0) };
}

/** Re-estimates the template's shape from posed observations (see structure.ts). */
export type StructureFitter = (tpl: PoseTemplate, frames: FrameObservation[], poses: HeadPose[], k: Intrinsics) => PoseTemplate;

/** The video's focal length: golden-section search of the bundle-adjusted cost over log f in
 * [lo, hi] (pixels). `frames` should be a spread of the video's frames. */
export function solveFocal(tpl: PoseTemplate, frames: FrameObservation[], cx: number, cy: number, axes: AxisPoints, lo: number, hi: number, structure: StructureFitter | null = null, rounds = 2, iterations = 24): { f: number; cost: number } {
  const total = (logf: number): number => adjustAtFocal(tpl, frames, { f: Math.exp(logf), cx, cy }, axes, rounds, structure).cost;
  const bracket = goldenSection(total, Math.log(lo), Math.log(hi), iterations);
  const logf = (bracket.lo + bracket.hi) / 2;
  return { f: Math.exp(logf), cost: total(logf) };
}

/** Centimetres (template) to the units of the reference's transforms: its tracker works in
 * 3DMM units of ~1 dm (camera started 7 units away) and divides translations by 10, so a
 * transform's translation is ~metres; the renderer's scale 4 then puts the head well inside
 * the unit bound. */
export const CM_TO_TRANSFORM = 0.01;

/**
 * The reference's `transform_matrix` (camera-to-head, OpenGL camera axes: x right, y up,
 * looking down -z) from a template->OpenCV-camera pose. Row-major 4x4.
 */
export function headTransform(pose: HeadPose): number[][] {
  const Rt = mat3T(pose.R);
  // OpenGL camera axes are OpenCV's with y and z flipped: c2w rotation = R^T diag(1,-1,-1).
  const rot = [
    [Rt[0], -Rt[1], -Rt[2]],
    [Rt[3], -Rt[4], -Rt[5]],
    [Rt[6], -Rt[7], -Rt[8]],
  ];
  const c = [0, 1, 2].map((r) => -(Rt[r * 3] * pose.t[0] + Rt[r * 3 + 1] * pose.t[1] + Rt[r * 3 + 2] * pose.t[2]) * CM_TO_TRANSFORM);
  return [
    [...rot[0], c[0]],
    [...rot[1], c[1]],
    [...rot[2], c[2]],
    [0, 0, 0, 1],
  ];
}

/** Inverse of `headTransform`. */
export function poseFromTransform(m: number[][]): HeadPose {
  // c2w rotation M = R^T F  =>  R = F M^T.
  const R = Float64Array.of(m[0][0], m[1][0], m[2][0], -m[0][1], -m[1][1], -m[2][1], -m[0][2], -m[1][2], -m[2][2]);
  const c = [m[0][3] / CM_TO_TRANSFORM, m[1][3] / CM_TO_TRANSFORM, m[2][3] / CM_TO_TRANSFORM];
  // camera centre c = -R^T t  =>  t = -R c.
  const t: [number, number, number] = [0, 1, 2].map((r) => -(R[r * 3] * c[0] + R[r * 3 + 1] * c[1] + R[r * 3 + 2] * c[2])) as [number, number, number];
  return { R, t };
}

/**
 * Lifts 2-D landmarks into head coordinates (centimetres, pose removed): each point is cast
 * back along its camera ray to the depth the posed template has there. Expression moves the
 * points in the image plane (a mouth opening, a brow raise); depth changes of expression are
 * not observed by a 2-D landmark and keep the template's depth.
 */
export function liftToHead(pts2: Float64Array, tplPts: Float64Array, pose: HeadPose, k: Intrinsics): Float32Array {
  const n = pts2.length / 2;
  const out = new Float32Array(n * 3);
  const { R, t } = pose;
  for (let i = 0; i < n; i++) {
    const X = tplPts[i * 3];
    const Y = tplPts[i * 3 + 1];
    const Z = tplPts[i * 3 + 2];
    const z = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    const cam = [((pts2[i * 2] - k.cx) * z) / k.f - t[0], ((pts2[i * 2 + 1] - k.cy) * z) / k.f - t[1], z - t[2]];
    // head = R^T (cam - t)
    for (let r = 0; r < 3; r++) out[i * 3 + r] = R[r] * cam[0] + R[3 + r] * cam[1] + R[6 + r] * cam[2];
  }
  return out;
}
