/**
 * Host-side per-frame values that are cheaper and more exact on the CPU than in a shader:
 * the camera block, the torso's pose encoding (Euler angles + translation, frequency encoded).
 */
import type { CameraConfig, ModelConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';

export function checkPose(pose: Float32Array): void {
  if (!(pose instanceof Float32Array) || pose.length !== 16) throw new ConfigError(`frame.pose: expected a Float32Array(16), got ${pose?.length ?? typeof pose}`);
  for (let i = 0; i < 16; i++) if (!Number.isFinite(pose[i])) throw new ConfigError(`frame.pose[${i}]: expected a finite number, got ${pose[i]}`);
}

/** Camera uniform: 3 rows of [R | t], intrinsics, aabb (+min_near), size. 112 bytes. */
export function cameraBlock(pose: Float32Array, cam: CameraConfig, cfg: ModelConfig): ArrayBuffer {
  const buf = new ArrayBuffer(112);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) f[r * 4 + c] = pose[r * 4 + c];
  f.set([cam.fx, cam.fy, cam.cx, cam.cy], 12);
  f.set([cfg.aabb[0], cfg.aabb[1], cfg.aabb[2], cfg.march.minNear], 16);
  f.set([cfg.aabb[3], cfg.aabb[4], cfg.aabb[5], 0], 20);
  u.set([cam.width, cam.height, cam.width * cam.height, 0], 24);
  return buf;
}

/** [atan2(-R12,R22), asin(R02), atan2(-R01,R00), tx, ty, tz] (model-spec §7b.9). */
export function poseVector(pose: Float32Array): Float64Array {
  const R = (r: number, c: number) => pose[r * 4 + c];
  return Float64Array.from([Math.atan2(-R(1, 2), R(2, 2)), Math.asin(Math.max(-1, Math.min(1, R(0, 2)))), Math.atan2(-R(0, 1), R(0, 0)), R(0, 3), R(1, 3), R(2, 3)]);
}

/** Frequency encoding: raw, then per octave sin of all dims, then cos (as sin(. + pi/2)). */
export function freqEncode(x: ArrayLike<number>, degree: number): Float32Array {
  const d = x.length;
  const out = new Float32Array(d + 2 * d * degree);
  for (let i = 0; i < d; i++) out[i] = x[i];
  for (let k = 0; k < degree; k++) {
    const f = 2 ** k;
    for (let i = 0; i < d; i++) {
      out[d + k * 2 * d + i] = Math.sin(Math.fround(Math.fround(x[i]) * f));
      out[d + k * 2 * d + d + i] = Math.sin(Math.fround(Math.fround(x[i]) * f) + Math.PI / 2);
    }
  }
  return out;
}

/** The per-frame tail of the torso input: freq(pose) ++ torso individual code. */
export function torsoFrameTail(pose: Float32Array, cfg: ModelConfig, torsoCode: Float32Array): Float32Array {
  const t = cfg.torso;
  if (!t) return new Float32Array(4);
  const enc = freqEncode(Float32Array.from(poseVector(pose)), t.poseDegree);
  const out = new Float32Array(enc.length + torsoCode.length);
  out.set(enc);
  out.set(torsoCode, enc.length);
  return out;
}
