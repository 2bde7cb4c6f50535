/**
 * EXPERIMENT, not used by the pipeline (docs/prepare.md says why: it needs the face's true
 * depth; with the canonical face's depth it is worse than the landmarks on a non-canonical face).
 * Photometric pose refinement. Landmark models carry pose-dependent biases (the face mesh
 * under-reports nods) and slowly varying errors of a degree or two, which is as large as a
 * talking head's whole motion; the pixels themselves do not. One reference frame textures the
 * rigid upper face (lifted onto the template's depth along its camera rays), and every other
 * frame's pose is the one whose projection of that texture best matches the frame: robust
 * Gauss-Newton on the six pose parameters, coarse to fine, with a per-frame gain and offset
 * for lighting. The mouth and jaw are left out: they move with speech, not with the head.
 */
import type { RgbFrame } from '../../../worker/face/crop.ts';
import { mat3Mul, rodrigues, solveSpd, type Mat3 } from '../../../worker/face/linalg.ts';
import { liftToHead, type HeadPose, type Intrinsics } from '../../../worker/face/pose-solver.ts';

/** Blur radii (box, applied twice) of the coarse-to-fine levels, in pixels at 512 px. */
const LEVELS_512 = [4, 2, 1];
const ITERATIONS = 8;
/** At most this many texture samples (spread evenly over the face). */
const MAX_SAMPLES = 6000;
/** A triangle is used only where it faces the camera at least this much (cosine) in the reference. */
const MIN_FACING = 0.3;
/** Huber threshold in robust standard deviations. */
const HUBER = 1.345;

export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function toGray(frame: RgbFrame): GrayImage {
  const n = frame.width * frame.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 0.299 * frame.rgb[i * 3] + 0.587 * frame.rgb[i * 3 + 1] + 0.114 * frame.rgb[i * 3 + 2];
  return { width: frame.width, height: frame.height, data };
}

/** Box blur of radius r, twice (close to a Gaussian of sigma ~ 0.8 r). */
export function blur(img: GrayImage, r: number): GrayImage {
  if (r < 1) return img;
  const { width: w, height: h } = img;
  let src = img.data;
  for (let pass = 0; pass < 2; pass++) {
    const tmp = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      let s = 0;
      for (let x = -r; x <= r; x++) s += src[y * w + Math.min(w - 1, Math.max(0, x))];
      for (let x = 0; x < w; x++) {
        tmp[y * w + x] = s / (2 * r + 1);
        s += src[y * w + Math.min(w - 1, x + r + 1)] - src[y * w + Math.max(0, x - r)];
      }
    }
    const out = new Float32Array(w * h);
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let y = -r; y <= r; y++) s += tmp[Math.min(h - 1, Math.max(0, y)) * w + x];
      for (let y = 0; y < h; y++) {
        out[y * w + x] = s / (2 * r + 1);
        s += tmp[Math.min(h - 1, y + r + 1) * w + x] - tmp[Math.max(0, y - r) * w + x];
      }
    }
    src = out;
  }
  return { width: w, height: h, data: src };
}

/** Bilinear sample and its gradient; null outside the image. */
function sample(img: GrayImage, u: number, v: number): [number, number, number] | null {
  const x = u - 0.5;
  const y = v - 0.5;
  if (!(x >= 1 && y >= 1 && x < img.width - 2 && y < img.height - 2)) return null;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const w = img.width;
  const d = img.data;
  const at = (xx: number, yy: number): number => d[yy * w + xx];
  const val = (xx: number, yy: number): number => (1 - fy) * ((1 - fx) * at(xx, yy) + fx * at(xx + 1, yy)) + fy * ((1 - fx) * at(xx, yy + 1) + fx * at(xx + 1, yy + 1));
  const i = val(x0, y0);
  const gx = (1 - fy) * (at(x0 + 1, y0) - at(x0, y0)) + fy * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1));
  const gy = (1 - fx) * (at(x0, y0 + 1) - at(x0, y0)) + fx * (at(x0 + 1, y0 + 1) - at(x0 + 1, y0));
  return [i, gx, gy];
}

/** The reference texture: head-space points with their normals and the reference frame's pixel
 * positions (sampled per level, since each level blurs the reference alike). */
export interface FaceTexture {
  points: Float64Array; // n x 3, head cm
  normals: Float64Array; // n x 3, unit, facing the reference camera
  uv: Float64Array; // n x 2, reference frame pixels
  reference: GrayImage;
}

/**
 * Samples the rigid upper face of the reference frame: `mesh2` its 468 landmark pixels,
 * `template` the posed template's 468 points (head cm), `rigid` which vertices move only with the head.
 */
export function buildTexture(reference: GrayImage, mesh2: Float64Array, template: Float64Array, triangles: Uint32Array, rigid: (v: number) => boolean, pose: HeadPose, k: Intrinsics): FaceTexture {
  const head = liftToHead(mesh2, template, pose, k);
  const pts: number[] = [];
  const nrm: number[] = [];
  const uvs: number[] = [];
  for (let t = 0; t + 2 < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
    if (!rigid(a) || !rigid(b) || !rigid(c)) continue;
    const P = [a, b, c].map((v) => [head[v * 3], head[v * 3 + 1], head[v * 3 + 2]]);
    const e1 = [0, 1, 2].map((d) => P[1][d] - P[0][d]);
    const e2 = [0, 1, 2].map((d) => P[2][d] - P[0][d]);
    const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const len = Math.hypot(n[0], n[1], n[2]);
    if (!(len > 0)) continue;
    // Facing: the normal in camera space against the ray to the triangle.
    const cen = [0, 1, 2].map((d) => (P[0][d] + P[1][d] + P[2][d]) / 3);
    const { R, t: tr } = pose;
    const camC = [0, 1, 2].map((r) => R[r * 3] * cen[0] + R[r * 3 + 1] * cen[1] + R[r * 3 + 2] * cen[2] + tr[r]);
    const camN = [0, 1, 2].map((r) => (R[r * 3] * n[0] + R[r * 3 + 1] * n[1] + R[r * 3 + 2] * n[2]) / len);
    let facing = -(camN[0] * camC[0] + camN[1] * camC[1] + camN[2] * camC[2]) / Math.hypot(camC[0], camC[1], camC[2]);
    const sign = facing < 0 ? -1 : 1;
    facing *= sign;
    if (facing < MIN_FACING) continue;
    // Barycentric grid at ~1 px spacing in the reference frame.
    const q = [a, b, c].map((v) => [mesh2[v * 2], mesh2[v * 2 + 1]]);
    const side = Math.max(Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]), Math.hypot(q[2][0] - q[0][0], q[2][1] - q[0][1]), Math.hypot(q[2][0] - q[1][0], q[2][1] - q[1][1]));
    const m = Math.min(64, Math.max(1, Math.ceil(side)));
    for (let i = 0; i <= m; i++) {
      for (let j = 0; i + j <= m; j++) {
        const l1 = (i + 1 / 3) / (m + 1);
        const l2 = (j + 1 / 3) / (m + 1);
        const l0 = 1 - l1 - l2;
        if (l0 < 0) continue;
        for (let d = 0; d < 3; d++) {
          pts.push(l0 * P[0][d] + l1 * P[1][d] + l2 * P[2][d]);
          nrm.push((sign * n[d]) / len);
        }
        uvs.push(l0 * q[0][0] + l1 * q[1][0] + l2 * q[2][0], l0 * q[0][1] + l1 * q[1][1] + l2 * q[2][1]);
      }
    }
  }
  // Evenly thinned to a bounded count.
  const total = uvs.length / 2;
  const stride = Math.max(1, total / MAX_SAMPLES);
  const keep = Math.floor(total / stride);
  const points = new Float64Array(keep * 3);
  const normals = new Float64Array(keep * 3);
  const uv = new Float64Array(keep * 2);
  for (let s = 0; s < keep; s++) {
    const i = Math.floor(s * stride);
    points.set(pts.slice(i * 3, i * 3 + 3), s * 3);
    normals.set(nrm.slice(i * 3, i * 3 + 3), s * 3);
    uv.set(uvs.slice(i * 2, i * 2 + 2), s * 2);
  }
  return { points, normals, uv, reference };
}

/** Blur radii for a frame of this size. */
export function levelRadii(size: number): number[] {
  return [...new Set(LEVELS_512.map((r) => Math.max(1, Math.round((r * size) / 512))))];
}

export interface PhotometricResult {
  pose: HeadPose;
  /** Robust RMS photometric residual at the finest level (grey levels). */
  rms: number;
  /** Samples used at the finest level. */
  used: number;
}

/**
 * Refines `init` so the texture, seen from the refined pose, matches `frame`. `refLevels[i]`
 * and `frameLevels[i]` are the reference and the frame blurred by `levelRadii(...)[i]`.
 */
export function refinePosePhotometric(tex: FaceTexture, refLevels: GrayImage[], frameLevels: GrayImage[], k: Intrinsics, init: HeadPose): PhotometricResult {
  const n = tex.uv.length / 2;
  let R: Mat3 = Float64Array.from(init.R);
  let t = [...init.t] as [number, number, number];
  let rms = Infinity;
  let used = 0;
  const refVals = new Float64Array(n);
  const H = new Float64Array(36);
  const g = new Float64Array(6);
  for (let level = 0; level < frameLevels.length; level++) {
    const img = frameLevels[level];
    for (let s = 0; s < n; s++) refVals[s] = sample(refLevels[level], tex.uv[s * 2], tex.uv[s * 2 + 1])?.[0] ?? NaN;
    for (let it = 0; it < ITERATIONS; it++) {
      // Project, sample, then the gain/offset and a robust scale from this pose's residuals.
      const obs: number[] = [];
      const rows: number[][] = [];
      const refs: number[] = [];
      for (let s = 0; s < n; s++) {
        if (Number.isNaN(refVals[s])) continue;
        const X = [tex.points[s * 3], tex.points[s * 3 + 1], tex.points[s * 3 + 2]];
        const rx = [0, 1, 2].map((r) => R[r * 3] * X[0] + R[r * 3 + 1] * X[1] + R[r * 3 + 2] * X[2]);
        const c = [rx[0] + t[0], rx[1] + t[1], rx[2] + t[2]];
        if (!(c[2] > 1e-3)) continue;
        const N = [0, 1, 2].map((r) => R[r * 3] * tex.normals[s * 3] + R[r * 3 + 1] * tex.normals[s * 3 + 1] + R[r * 3 + 2] * tex.normals[s * 3 + 2]);
        if (-(N[0] * c[0] + N[1] * c[1] + N[2] * c[2]) / Math.hypot(c[0], c[1], c[2]) < MIN_FACING) continue;
        const u = (k.f * c[0]) / c[2] + k.cx;
        const v = (k.f * c[1]) / c[2] + k.cy;
        const smp = sample(img, u, v);
        if (!smp) continue;
        const [val, gx, gy] = smp;
        // d(u,v)/d(cam) then d(cam)/d(omega, t): cam = exp(omega) R X + t + dt, so d/d omega = -[RX]x.
        const iz = 1 / c[2];
        const du = [k.f * iz, 0, -k.f * c[0] * iz * iz];
        const dv = [0, k.f * iz, -k.f * c[1] * iz * iz];
        const dI = [gx * du[0] + gy * dv[0], gx * du[1] + gy * dv[1], gx * du[2] + gy * dv[2]];
        // dI . (omega x p) = omega . (p x dI).
        const p = rx;
        const jw = [p[1] * dI[2] - p[2] * dI[1], p[2] * dI[0] - p[0] * dI[2], p[0] * dI[1] - p[1] * dI[0]];
        rows.push([jw[0], jw[1], jw[2], dI[0], dI[1], dI[2]]);
        obs.push(val);
        refs.push(refVals[s]);
      }
      used = obs.length;
      if (used < 50) return { pose: { R, t }, rms: Infinity, used };
      // Gain and offset: least squares of the frame against the reference.
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let sxy = 0;
      for (let s = 0; s < used; s++) {
        sx += refs[s];
        sy += obs[s];
        sxx += refs[s] * refs[s];
        sxy += refs[s] * obs[s];
      }
      const den = used * sxx - sx * sx;
      const gain = den > 1e-9 ? (used * sxy - sx * sy) / den : 1;
      const off = (sy - gain * sx) / used;
      const res = obs.map((o, s) => o - gain * refs[s] - off);
      const absSorted = res.map(Math.abs).sort((a, b) => a - b);
      const sigma = Math.max(1, 1.4826 * absSorted[Math.floor(used / 2)]);
      const thr = HUBER * sigma;
      H.fill(0);
      g.fill(0);
      let cost = 0;
      for (let s = 0; s < used; s++) {
        const r = res[s];
        const w = Math.abs(r) <= thr ? 1 : thr / Math.abs(r);
        cost += w * r * r;
        const J = rows[s];
        for (let a = 0; a < 6; a++) {
          g[a] += w * J[a] * r;
          for (let b = a; b < 6; b++) H[a * 6 + b] += w * J[a] * J[b];
        }
      }
      for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) H[a * 6 + b] = H[b * 6 + a];
      rms = Math.sqrt(cost / used);
      // A little damping keeps a step inside the linearisation's reach.
      for (let a = 0; a < 6; a++) H[a * 7] *= 1.001;
      const step = Float64Array.from(g, (v) => -v);
      if (!solveSpd(Float64Array.from(H), step, 6)) break;
      R = mat3Mul(rodrigues([step[0], step[1], step[2]]), R);
      t = [t[0] + step[3], t[1] + step[4], t[2] + step[5]];
      if (Math.hypot(step[0], step[1], step[2]) < 1e-5 && Math.hypot(step[3], step[4], step[5]) < 1e-4) break;
    }
  }
  return { pose: { R, t }, rms, used };
}
