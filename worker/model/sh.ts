/**
 * Real spherical harmonics of a unit view direction, up to degree 4 (16 values), with the
 * tiny-cuda-nn sign convention the reference shencoder uses (model-spec §7b.10).
 */
import { ConfigError } from '../errors.ts';

export const SH_MAX_DEGREE = 4;

/** Writes degree^2 values to out[off ..]; dir is used as given (the reference does not renormalise). */
export function shEncode(dir: ArrayLike<number>, degree: number, out: Float32Array, off: number): void {
  if (!Number.isInteger(degree) || degree < 1 || degree > SH_MAX_DEGREE) {
    throw new ConfigError(`shEncode.degree: expected an integer in [1, ${SH_MAX_DEGREE}], got ${degree}`);
  }
  const x = dir[0];
  const y = dir[1];
  const z = dir[2];
  out[off] = 0.28209479177387814;
  if (degree <= 1) return;
  out[off + 1] = -0.48860251190291987 * y;
  out[off + 2] = 0.48860251190291987 * z;
  out[off + 3] = -0.48860251190291987 * x;
  if (degree <= 2) return;
  const xy = x * y;
  const xz = x * z;
  const yz = y * z;
  const x2 = x * x;
  const y2 = y * y;
  const z2 = z * z;
  out[off + 4] = 1.0925484305920792 * xy;
  out[off + 5] = -1.0925484305920792 * yz;
  out[off + 6] = 0.94617469575755997 * z2 - 0.31539156525251999;
  out[off + 7] = -1.0925484305920792 * xz;
  out[off + 8] = 0.54627421529603959 * x2 - 0.54627421529603959 * y2;
  if (degree <= 3) return;
  out[off + 9] = 0.59004358992664352 * y * (-3 * x2 + y2);
  out[off + 10] = 2.8906114426405538 * xy * z;
  out[off + 11] = 0.45704579946446572 * y * (1 - 5 * z2);
  out[off + 12] = 0.3731763325901154 * z * (5 * z2 - 3);
  out[off + 13] = 0.45704579946446572 * x * (1 - 5 * z2);
  out[off + 14] = 1.4453057213202769 * z * (x2 - y2);
  out[off + 15] = 0.59004358992664352 * x * (-x2 + 3 * y2);
}
