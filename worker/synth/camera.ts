/**
 * The fixed camera and the moving head of the synthetic scene, and how they become the
 * reference layout's numbers. World frame: the camera's, axes aligned with the head frame at
 * rest (x right, y up, z towards the camera; the camera looks down -z, OpenGL style, as the
 * reference's transform_matrix assumes before nerf_matrix_to_ngp flips y and z). The head
 * moves by (Rh, th); the reference stores the camera relative to the head:
 * transform_matrix = [Rh^T | Rh^T (C - th)].
 */
import type { HeadMotion } from './motion.ts';

export type Mat3 = Float64Array; // row-major 3x3
export type Vec3 = [number, number, number];

export interface SynthCamera {
  width: number;
  height: number;
  focal: number;
  cx: number;
  cy: number;
  /** Camera centre in the world (head-at-rest) frame. */
  centre: Vec3;
}

/** Camera distance in head units; with scale 4 the renderer sees the camera ~4.8 units away. */
export const CAMERA_DISTANCE = 1.2;

/** Focal length of the default framing, in widths, and the camera centre's height there. */
const FOCAL_WIDTHS = 2.4;
const CENTRE_Y = -0.035;
/** Head-frame height (the forehead) that zooming keeps on the same image row. */
const ZOOM_ANCHOR_Y = 0.05;

/**
 * A portrait framing: focal 2.4 x width (a narrow lens, as webcams filmed from arm's length),
 * head slightly above centre. `zoom` > 1 narrows the lens and raises the camera so the
 * forehead stays on its row: the face grows about the upper face, keeps most of its headroom,
 * and the shoulders leave the bottom of the frame (a closer, meeting-style framing whose mouth
 * covers more pixels).
 */
export function makeCamera(width: number, height: number, zoom = 1): SynthCamera {
  // Same row for the anchor: focal x (anchor - centre) / distance is kept.
  const centreY = zoom === 1 ? CENTRE_Y : ZOOM_ANCHOR_Y - (ZOOM_ANCHOR_Y - CENTRE_Y) / zoom;
  return { width, height, focal: FOCAL_WIDTHS * zoom * width, cx: width / 2, cy: height / 2, centre: [0, centreY, CAMERA_DISTANCE] };
}

/** Rh = Ry(yaw) Rx(pitch) Rz(roll). */
export function headRotation(h: HeadMotion): Mat3 {
  const [cy, sy] = [Math.cos(h.yaw), Math.sin(h.yaw)];
  const [cx, sx] = [Math.cos(h.pitch), Math.sin(h.pitch)];
  const [cz, sz] = [Math.cos(h.roll), Math.sin(h.roll)];
  const Ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const Rx = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
  const Rz = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
  return mul3(mul3(Float64Array.from(Ry), Float64Array.from(Rx)), Float64Array.from(Rz));
}

export function mul3(a: Mat3, b: Mat3): Mat3 {
  const o = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) o[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  return o;
}

/** R v. */
export function apply(R: Mat3, v: ArrayLike<number>, out: Vec3 = [0, 0, 0]): Vec3 {
  const [x, y, z] = [v[0], v[1], v[2]];
  out[0] = R[0] * x + R[1] * y + R[2] * z;
  out[1] = R[3] * x + R[4] * y + R[5] * z;
  out[2] = R[6] * x + R[7] * y + R[8] * z;
  return out;
}

/** R^T v. */
export function applyT(R: Mat3, v: ArrayLike<number>, out: Vec3 = [0, 0, 0]): Vec3 {
  const [x, y, z] = [v[0], v[1], v[2]];
  out[0] = R[0] * x + R[3] * y + R[6] * z;
  out[1] = R[1] * x + R[4] * y + R[7] * z;
  out[2] = R[2] * x + R[5] * y + R[8] * z;
  return out;
}

/** The reference's transform_matrix (camera-to-head, OpenGL camera axes), row-major 4x4. */
export function transformMatrix(cam: SynthCamera, h: HeadMotion): number[] {
  const R = headRotation(h);
  const t = applyT(R, [cam.centre[0] - h.tx, cam.centre[1] - h.ty, cam.centre[2] - h.tz]);
  return [R[0], R[3], R[6], t[0], R[1], R[4], R[7], t[1], R[2], R[5], R[8], t[2], 0, 0, 0, 1];
}

/** A head-frame point in the world (camera-fixed) frame. */
export function headToWorld(h: HeadMotion, R: Mat3, p: ArrayLike<number>): Vec3 {
  const w = apply(R, p);
  return [w[0] + h.tx, w[1] + h.ty, w[2] + h.tz];
}

/**
 * Pixel position of a world point in .lms convention (x = column, y = row, pixel centres on
 * integers): the renderer's ray for pixel centre (col + 0.5) has direction (col + 0.5 - cx) / f,
 * so a point projecting to u lies in pixel floor(u) and its landmark coordinate is u - 0.5.
 */
export function projectWorld(cam: SynthCamera, p: Vec3): [number, number] {
  const dx = p[0] - cam.centre[0];
  const dy = p[1] - cam.centre[1];
  const depth = cam.centre[2] - p[2];
  return [cam.cx + (cam.focal * dx) / depth - 0.5, cam.cy - (cam.focal * dy) / depth - 0.5];
}
