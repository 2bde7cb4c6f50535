/** Small dense linear algebra for the pose solver: 3x3 rotations and tiny SPD solves. */

export type Mat3 = Float64Array; // row-major 3x3

export function mat3Mul(a: Mat3, b: Mat3): Mat3 {
  const o = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return o;
}

export function mat3T(a: Mat3): Mat3 {
  return Float64Array.of(a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]);
}

/** Rotation matrix of a rotation vector (axis * angle, radians): Rodrigues' formula. */
export function rodrigues(w: ArrayLike<number>): Mat3 {
  const th = Math.hypot(w[0], w[1], w[2]);
  if (th < 1e-12) return Float64Array.of(1, -w[2], w[1], w[2], 1, -w[0], -w[1], w[0], 1);
  const [x, y, z] = [w[0] / th, w[1] / th, w[2] / th];
  const c = Math.cos(th);
  const s = Math.sin(th);
  const C = 1 - c;
  return Float64Array.of(
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  );
}

/** Angle (radians) of the rotation taking `a` to `b`. */
export function rotationAngle(a: Mat3, b: Mat3): number {
  const r = mat3Mul(mat3T(a), b);
  return Math.acos(Math.max(-1, Math.min(1, (r[0] + r[4] + r[8] - 1) / 2)));
}

/** Rotation vector of a rotation matrix (inverse of `rodrigues`). */
export function rotationVector(r: Mat3): [number, number, number] {
  const th = Math.acos(Math.max(-1, Math.min(1, (r[0] + r[4] + r[8] - 1) / 2)));
  if (th < 1e-9) return [(r[7] - r[5]) / 2, (r[2] - r[6]) / 2, (r[3] - r[1]) / 2];
  const k = th / (2 * Math.sin(th));
  return [(r[7] - r[5]) * k, (r[2] - r[6]) * k, (r[3] - r[1]) * k];
}

/** Solves the symmetric positive definite system A x = b in place (Cholesky); returns false
 * when A is not positive definite. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): boolean {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) return false;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
  return true;
}

/** Orthonormal frame (rows: x, y, z) from an x direction and an approximate y direction. */
export function frameFrom(x: [number, number, number], yApprox: [number, number, number]): Mat3 {
  const n = (v: number[]): number[] => {
    const l = Math.hypot(v[0], v[1], v[2]) || 1;
    return [v[0] / l, v[1] / l, v[2] / l];
  };
  const ex = n(x);
  const d = ex[0] * yApprox[0] + ex[1] * yApprox[1] + ex[2] * yApprox[2];
  const ey = n([yApprox[0] - d * ex[0], yApprox[1] - d * ex[1], yApprox[2] - d * ex[2]]);
  const ez = [ex[1] * ey[2] - ex[2] * ey[1], ex[2] * ey[0] - ex[0] * ey[2], ex[0] * ey[1] - ex[1] * ey[0]];
  return Float64Array.of(...ex, ...ey, ...ez);
}
