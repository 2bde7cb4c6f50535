/**
 * Fast mode's frame-to-frame prediction, shared by the CPU reference (fast-renderer.ts) and the
 * WebGPU path (worker/render/fast-renderer.ts): each pixel's surface point of the previous frame
 * (world space: the head field is static apart from the audio-driven deformation) is kept, then
 * reprojected into the new camera and splatted over 3x3 pixels (nearest wins) to say where the
 * new frame's rays may start evaluating the field.
 */
import type { CameraConfig } from '../avatar/config.ts';

/**
 * World-space surface point of every pixel (NaN where its ray found none): origin + hitT * dir.
 * Writes into `out` (3 floats a pixel) when given, else a new array.
 */
export function surfacePoints(origins: Float32Array, dirs: Float32Array, hitT: Float32Array, out?: Float32Array): Float32Array {
  const n = hitT.length;
  const s = out ?? new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = hitT[i];
    for (let k = 0; k < 3; k++) s[i * 3 + k] = Number.isNaN(t) ? NaN : origins[i * 3 + k] + t * dirs[i * 3 + k];
  }
  return s;
}

/**
 * Per pixel: the ray parameter where field evaluation starts, `margin` ahead of the nearest
 * previous surface point that lands within one pixel of it; -Infinity where none landed (no
 * previous frame, disocclusion, background): those rays evaluate every sample.
 */
export function predictStarts(camera: CameraConfig, pose: Float32Array, prev: Float32Array | null, margin: number): Float32Array {
  const { width: W, height: H, fx, fy, cx, cy } = camera;
  const start = new Float32Array(W * H).fill(Infinity);
  if (prev) {
    const ox = pose[3];
    const oy = pose[7];
    const oz = pose[11];
    // Every point of `prev`: a band of a pool render (a cropped camera) is given the whole
    // previous frame's points, so a point from a neighbouring band still guides its rays.
    const points = Math.floor(prev.length / 3);
    for (let i = 0; i < points; i++) {
      const px = prev[i * 3];
      if (Number.isNaN(px)) continue;
      const vx = px - ox;
      const vy = prev[i * 3 + 1] - oy;
      const vz = prev[i * 3 + 2] - oz;
      // camera coordinates: R^T v (the pose's columns are the camera axes in world space)
      const cxv = pose[0] * vx + pose[4] * vy + pose[8] * vz;
      const cyv = pose[1] * vx + pose[5] * vy + pose[9] * vz;
      const czv = pose[2] * vx + pose[6] * vy + pose[10] * vz;
      if (!(czv > 0)) continue;
      const col = Math.floor((fx * cxv) / czv + cx);
      const row = Math.floor((fy * cyv) / czv + cy);
      const t = Math.hypot(vx, vy, vz);
      for (let r = row - 1; r <= row + 1; r++) {
        if (r < 0 || r >= H) continue;
        for (let c = col - 1; c <= col + 1; c++) {
          if (c < 0 || c >= W) continue;
          if (t < start[r * W + c]) start[r * W + c] = t;
        }
      }
    }
  }
  for (let i = 0; i < start.length; i++) start[i] = start[i] === Infinity ? -Infinity : start[i] - margin;
  return start;
}
