/**
 * Per-pixel rays (model-spec §6, §7b.8) and the aabb slab test of raymarching.cu
 * (near_far_from_aabb), in float32 like the reference.
 */
import type { CameraConfig } from '../avatar/config.ts';

const f = Math.fround;

/**
 * World direction of pixel (col, row): normalize((col+0.5-cx)/fx, (row+0.5-cy)/fy, 1)
 * rotated by the pose's R (row-major 4x4 camera-to-world), not renormalised afterwards.
 */
export function rayDirection(camera: CameraConfig, pose: ArrayLike<number>, col: number, row: number, out: Float32Array): void {
  const x = f(f(f(col + 0.5) - camera.cx) / camera.fx);
  const y = f(f(f(row + 0.5) - camera.cy) / camera.fy);
  const inv = 1 / Math.sqrt(x * x + y * y + 1);
  const dx = f(x * inv);
  const dy = f(y * inv);
  const dz = f(inv);
  for (let r = 0; r < 3; r++) out[r] = pose[r * 4] * dx + pose[r * 4 + 1] * dy + pose[r * 4 + 2] * dz;
}

/** The camera centre: the pose's translation column. */
export function rayOrigin(pose: ArrayLike<number>, out: Float32Array): void {
  out[0] = pose[3];
  out[1] = pose[7];
  out[2] = pose[11];
}

/**
 * [near, far] of the ray against aabb [xmin, ymin, zmin, xmax, ymax, zmax], near raised to
 * minNear. Misses give [+inf, +inf] (the kernel writes FLT_MAX; both stop the march at once).
 * The comparison order is the kernel's, so NaN cases behave the same.
 */
export function nearFar(origin: ArrayLike<number>, dir: ArrayLike<number>, aabb: ArrayLike<number>, minNear: number): [number, number] {
  const ox = origin[0];
  const oy = origin[1];
  const oz = origin[2];
  const rdx = f(1 / dir[0]);
  const rdy = f(1 / dir[1]);
  const rdz = f(1 / dir[2]);

  let near = f(f(aabb[0] - ox) * rdx);
  let far = f(f(aabb[3] - ox) * rdx);
  if (near > far) [near, far] = [far, near];

  let nearY = f(f(aabb[1] - oy) * rdy);
  let farY = f(f(aabb[4] - oy) * rdy);
  if (nearY > farY) [nearY, farY] = [farY, nearY];
  if (near > farY || nearY > far) return [Infinity, Infinity];
  if (nearY > near) near = nearY;
  if (farY < far) far = farY;

  let nearZ = f(f(aabb[2] - oz) * rdz);
  let farZ = f(f(aabb[5] - oz) * rdz);
  if (nearZ > farZ) [nearZ, farZ] = [farZ, nearZ];
  if (near > farZ || nearZ > far) return [Infinity, Infinity];
  if (nearZ > near) near = nearZ;
  if (farZ < far) far = farZ;

  if (near < minNear) near = f(minNear);
  return [near, far];
}
