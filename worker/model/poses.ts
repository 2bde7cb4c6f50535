/**
 * Pose track handling at inference (model-spec §1, §7b.6, §7b.7, §7b.9): path smoothing,
 * ping-pong playback, eye smoothing and the Euler-angle pose input of the torso.
 * Poses are row-major 4x4 camera-to-world matrices in the renderer convention.
 */
import { ConfigError, FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { median } from '../util/stats.ts';

/** The reference's default eye value when a frame has none ("opened eye"). */
export const DEFAULT_EYE = 0.25;

function checkPoses(poses: Float32Array, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxPoses) throw FormatError.input('poses.count', `expected an integer in [1, ${LIMITS.maxPoses}], got ${n}`);
  if (!(poses instanceof Float32Array) || poses.length !== n * 16) {
    throw FormatError.expected('INPUT_FORMAT', 'poses', `${n * 16} float32 values (${n} x 4x4)`, String(poses?.length));
  }
}

/** Unit quaternion (x, y, z, w) of a rotation matrix (row-major 3x3 at m[off], row stride 4), scipy's from_matrix branch choice. */
function quaternionFromPose(m: Float32Array, off: number, q: Float64Array): void {
  const r = (i: number, j: number) => m[off + i * 4 + j];
  const tr = r(0, 0) + r(1, 1) + r(2, 2);
  const diag = [r(0, 0), r(1, 1), r(2, 2), tr];
  let choice = 0;
  for (let i = 1; i < 4; i++) if (diag[i] > diag[choice]) choice = i;
  if (choice === 3) {
    q[0] = r(2, 1) - r(1, 2);
    q[1] = r(0, 2) - r(2, 0);
    q[2] = r(1, 0) - r(0, 1);
    q[3] = 1 + tr;
  } else {
    const i = choice;
    const j = (i + 1) % 3;
    const k = (j + 1) % 3;
    q[i] = 1 - tr + 2 * r(i, i);
    q[j] = r(j, i) + r(i, j);
    q[k] = r(k, i) + r(i, k);
    q[3] = r(k, j) - r(j, k);
  }
  const norm = Math.hypot(q[0], q[1], q[2], q[3]);
  for (let i = 0; i < 4; i++) q[i] /= norm;
}

/** Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi, bounded sweeps;
 * overwrites `a`). */
export function dominantEigenvector(a: Float64Array, out: Float64Array): void {
  const v = new Float64Array(16);
  for (let i = 0; i < 4; i++) v[i * 4 + i] = 1;
  for (let sweep = 0; sweep < 64; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p * 4 + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p * 4 + q];
        if (apq === 0) continue;
        const theta = (a[q * 4 + q] - a[p * 4 + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k * 4 + p];
          const akq = a[k * 4 + q];
          a[k * 4 + p] = c * akp - s * akq;
          a[k * 4 + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p * 4 + k];
          const aqk = a[q * 4 + k];
          a[p * 4 + k] = c * apk - s * aqk;
          a[q * 4 + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k * 4 + p];
          const vkq = v[k * 4 + q];
          v[k * 4 + p] = c * vkp - s * vkq;
          v[k * 4 + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i * 4 + i] > a[best * 4 + best]) best = i;
  for (let k = 0; k < 4; k++) out[k] = v[k * 4 + best];
}

/**
 * The reference's smooth_camera_path: for each pose i, translation = mean over frames
 * [i-radius, i+radius] clipped to the track, rotation = chordal L2 mean of the same
 * rotations (scipy Rotation.mean: dominant eigenvector of sum q q^T). Returns a new array.
 */
export function smoothPoses(poses: Float32Array, n: number, radius = 3): Float32Array {
  checkPoses(poses, n);
  if (!Number.isInteger(radius) || radius < 0) throw new ConfigError(`smoothPoses.radius: expected a non-negative integer, got ${radius}`);
  const out = poses.slice();
  const q = new Float64Array(4);
  const K = new Float64Array(16);
  const mean = new Float64Array(4);
  for (let i = 0; i < n; i++) {
    const start = Math.max(0, i - radius);
    const end = Math.min(n, i + radius + 1);
    K.fill(0);
    const t = [0, 0, 0];
    for (let j = start; j < end; j++) {
      for (let r = 0; r < 3; r++) t[r] += poses[j * 16 + r * 4 + 3];
      quaternionFromPose(poses, j * 16, q);
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) K[a * 4 + b] += q[a] * q[b];
    }
    dominantEigenvector(K, mean);
    const [x, y, z, w] = mean;
    const o = i * 16;
    const R = [
      1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
      2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
      2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[o + r * 4 + c] = R[r * 3 + c];
      out[o + r * 4 + 3] = t[r] / (end - start);
    }
  }
  return out;
}

/** Frame i of a track of n played forwards, backwards, forwards ... (the reference's mirror_index). */
export function pingPongIndex(i: number, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`pingPongIndex.n: expected a positive integer, got ${n}`);
  if (!Number.isInteger(i) || i < 0) throw new ConfigError(`pingPongIndex.i: expected a non-negative integer, got ${i}`);
  const turn = Math.floor(i / n);
  const res = i % n;
  return turn % 2 === 0 ? res : n - res - 1;
}

/**
 * pytorch3d matrix_to_euler_angles(R, 'XYZ') of the rotation part of a 4x4 (16 values) or
 * 3x3 (9 values) row-major matrix: [atan2(-R12, R22), asin(R02), atan2(-R01, R00)].
 * R02 is clamped to [-1, 1] so rounding cannot turn asin into NaN.
 */
export function eulerXYZ(R: ArrayLike<number>): [number, number, number] {
  const stride = R.length === 16 ? 4 : R.length === 9 ? 3 : 0;
  if (stride === 0) throw new ConfigError(`eulerXYZ.R: expected 9 or 16 values, got ${R.length}`);
  const r = (i: number, j: number) => R[i * stride + j];
  return [Math.atan2(-r(1, 2), r(2, 2)), Math.asin(Math.min(1, Math.max(-1, r(0, 2)))), Math.atan2(-r(0, 1), r(0, 0))];
}

/** The torso's 6-value pose input (convert_poses): Euler XYZ then translation, float32. */
export function poseInput(pose: ArrayLike<number>, out: Float32Array): void {
  if (pose.length !== 16) throw new ConfigError(`poseInput.pose: expected 16 values, got ${pose.length}`);
  const e = eulerXYZ(pose);
  out[0] = e[0];
  out[1] = e[1];
  out[2] = e[2];
  out[3] = pose[3];
  out[4] = pose[7];
  out[5] = pose[11];
}

/**
 * The avatar's open-eye value: the median of its eye track (a subject blinks a few per cent of
 * the time, and prepare writes the open eye at one level), DEFAULT_EYE when it has none. Idle
 * blinks are scaled to it: a person's open eye is their own value, not the reference's 0.25
 * (the built-in avatar's is 0.365; at 0.25 its eyes showed two thirds open between blinks).
 */
export function eyeOpenLevel(eye: Float32Array | null | undefined): number {
  if (!eye || eye.length === 0) return DEFAULT_EYE;
  const open = median(Array.from(eye).filter((v) => Number.isFinite(v)));
  return open > 0 ? Math.fround(open) : DEFAULT_EYE;
}

/** Eye value of pose i: mean over frames i-1..i+1 clipped to the track; DEFAULT_EYE when no track. */
export function smoothEye(eye: Float32Array | null | undefined, n: number, i: number): number {
  if (!eye) return DEFAULT_EYE;
  if (eye.length !== n) throw FormatError.expected('INPUT_FORMAT', 'eye', `${n} values (one per pose)`, String(eye.length));
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new ConfigError(`smoothEye.i: expected an integer in [0, ${n - 1}], got ${i}`);
  const start = Math.max(0, i - 1);
  const end = Math.min(n, i + 2);
  let s = 0;
  for (let j = start; j < end; j++) s += eye[j];
  return Math.fround(s / (end - start));
}
