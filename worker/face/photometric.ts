/**
 * Photometric head-pose refinement. The face-mesh landmarks carry slowly varying, pose- and
 * expression-dependent errors of about a degree (the mouth opening drags the whole mesh), as
 * large as a talking head's whole motion; the pixels themselves do not. One reference frame
 * textures the rigid face (lifted onto the posed template's depth along its camera rays) and
 * every frame's pose becomes the one whose projection of that texture best matches the frame:
 * robust Gauss-Newton on the six pose parameters, coarse to fine, with a per-frame gain and
 * offset for lighting. Only what moves with the skull is textured: above the subnasale, with
 * the eyes and brows cut out (they blink and rise) and the mouth and jaw below (speech).
 * Measured on the training proof's synthetic subject (docs/prepare.md): the rigid landmarks'
 * residual through the cameras drops from ~0.5 px (landmark poses) to ~0.3 px.
 */
import type { RgbFrame } from './crop.ts';
import { solveSpd, type Mat3 } from './linalg.ts';
import { applyPoseStep, liftToHead, type HeadPose, type Intrinsics } from './pose-solver.ts';
import { convexHull, fillPolygon } from '../util/polygon.ts';

/** Blur radii (box, applied twice) of the coarse-to-fine levels, in pixels at 512 px. */
const LEVELS_512 = [4, 2, 1];
/** Gauss-Newton iterations per level. */
export const ITERATIONS = 8;
/** At most this many texture samples (spread evenly over the face). */
const MAX_SAMPLES = 4000;
/** A triangle is used only where it faces the camera at least this much (cosine) in the reference. */
const MIN_FACING = 0.3;
/** Huber threshold in robust standard deviations. */
export const HUBER = 1.345;
/** Fewest samples a frame must see for its refinement to count. */
export const MIN_USED = 200;
/** A level has converged when a step turns less than this (radians, 0.006 deg) and moves less
 * than STEP_T (cm): far below what the pose needs, and it ends most levels early. */
export const STEP_ROT = 1e-4;
export const STEP_T = 1e-3;

/** The k-th smallest of a[0..n) (quickselect; reorders a). */
export function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

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

/** Blur radii of the levels for a frame of this size. */
export function levelRadii(size: number): number[] {
  return [...new Set(LEVELS_512.map((r) => Math.max(1, Math.round((r * size) / 512))))];
}

/** The image at every level of `radii`. */
export function pyramid(img: GrayImage, radii: number[]): GrayImage[] {
  return radii.map((r) => blur(img, r));
}

const sampled = new Float64Array(3);
/** Bilinear sample and its gradient into `sampled`; false outside the image. Pixel centres at +0.5. */
function sample(img: GrayImage, u: number, v: number): boolean {
  const x = u - 0.5;
  const y = v - 0.5;
  if (!(x >= 1 && y >= 1 && x < img.width - 2 && y < img.height - 2)) return false;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const w = img.width;
  const d = img.data;
  const i00 = d[y0 * w + x0];
  const i10 = d[y0 * w + x0 + 1];
  const i01 = d[(y0 + 1) * w + x0];
  const i11 = d[(y0 + 1) * w + x0 + 1];
  sampled[0] = (1 - fy) * ((1 - fx) * i00 + fx * i10) + fy * ((1 - fx) * i01 + fx * i11);
  sampled[1] = (1 - fy) * (i10 - i00) + fy * (i11 - i01);
  sampled[2] = (1 - fx) * (i01 - i00) + fx * (i11 - i10);
  return true;
}

/** The reference texture: head-space points with their normals and the reference frame's pixel
 * positions (sampled per level, since each level blurs the reference alike). */
export interface FaceTexture {
  points: Float64Array; // n x 3, head cm
  normals: Float64Array; // n x 3, unit, facing the reference camera
  uv: Float64Array; // n x 2, reference frame pixels
}

/**
 * Which template vertices move only with the skull: above the subnasale (vertex 2), outside the
 * eye-and-brow boxes (0.9..6.2 cm either side of the midline, 1.3..6.2 cm up: both eyes, lids
 * and brows of the canonical face).
 */
export function rigidVertices(template: ArrayLike<number>): (v: number) => boolean {
  const subnasale = template[2 * 3 + 1];
  return (v) => {
    const x = Math.abs(template[v * 3]);
    const y = template[v * 3 + 1];
    return y > subnasale && !(x > 0.9 && x < 6.2 && y > 1.3 && y < 6.2);
  };
}

/**
 * Samples the rigid face of the reference frame: `mesh2` its 468 landmark pixels, `template`
 * the 468 template points (head cm) the texture is lifted onto, `pose` the reference's pose.
 */
export function buildTexture(mesh2: Float64Array, template: Float64Array, triangles: Uint32Array, rigid: (v: number) => boolean, pose: HeadPose, k: Intrinsics): FaceTexture {
  const head = liftToHead(mesh2, template, pose, k);
  const pts: number[] = [];
  const nrm: number[] = [];
  const uvs: number[] = [];
  const { R, t: tr } = pose;
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
    for (let d = 0; d < 3; d++) {
      points[s * 3 + d] = pts[i * 3 + d];
      normals[s * 3 + d] = nrm[i * 3 + d];
    }
    uv[s * 2] = uvs[i * 2];
    uv[s * 2 + 1] = uvs[i * 2 + 1];
  }
  return { points, normals, uv };
}

/** At most this many samples of the head beyond the face (headShellTexture). */
const MAX_SHELL_SAMPLES = 3000;

/**
 * The rest of the head as texture: the reference frame's head pixels (`mask`, w x h, nonzero =
 * head) outside the face mesh's hull and above its subnasale (what the jaw and speech do not
 * move: hair, ears, temples, the head's outline against the background), lifted along the
 * reference camera's rays onto a proxy skull. The face alone pins the pose where the face is;
 * points 6-9 cm behind it (the outline a NeRF must place) then drift by the rotation error times
 * that depth, and the pixels of the outline see exactly that. The proxy (template cm): an
 * ellipsoid centred on the template's midline at the depth and height of its widest vertices
 * (the face's sides, where the head's outline passes), as wide and as tall as the mask is there,
 * through the forehead; a ray that misses it (hair standing out) stops on its centre plane.
 * Normals face the reference camera (samples on the outline are the informative ones, not
 * culled as grazing). `template` is the 468 points the face texture uses (the same relief).
 * `depthOffset` (cm) moves the proxy's centre plane back (negative) or forward: how deep the head
 * sits behind the face is the one thing the proxy cannot read off the reference frame
 * (fit-video.ts searches it on the pixels).
 */
export function headShellTexture(mask: Uint8Array, w: number, h: number, mesh2: Float64Array, template: Float64Array, pose: HeadPose, k: Intrinsics, depthOffset = 0): FaceTexture {
  const { R, t } = pose;
  // Head frame: the camera centre and the ray through pixel (u, v).
  const C = [0, 1, 2].map((r) => -(R[r] * t[0] + R[3 + r] * t[1] + R[6 + r] * t[2]));
  const ray = (u: number, v: number) => {
    const d = [(u - k.cx) / k.f, (v - k.cy) / k.f, 1];
    return [0, 1, 2].map((r) => R[r] * d[0] + R[3 + r] * d[1] + R[6 + r] * d[2]);
  };
  const project = (X: number[]) => {
    const c = [0, 1, 2].map((r) => R[r * 3] * X[0] + R[r * 3 + 1] * X[1] + R[r * 3 + 2] * X[2] + t[r]);
    return [(k.f * c[0]) / c[2] + k.cx, (k.f * c[1]) / c[2] + k.cy, c[2]];
  };
  const V = (v: number, d: number) => template[v * 3 + d];
  // The face's widest vertices (canonical 234/454 beside the eyes' line, 127/356 above them).
  const sides = [234, 454, 127, 356];
  const zc = sides.reduce((s, v) => s + V(v, 2), 0) / sides.length + depthOffset;
  const yc = sides.reduce((s, v) => s + V(v, 1), 0) / sides.length;
  const centre = [0, yc, zc];
  // Mask extent through the centre, converted to cm at the centre's depth.
  const [cu, cv, cz] = project(centre);
  const row = Math.min(h - 1, Math.max(0, Math.floor(cv)));
  const col = Math.min(w - 1, Math.max(0, Math.floor(cu)));
  let left = col;
  let right = col;
  while (left > 0 && mask[row * w + left - 1]) left--;
  while (right < w - 1 && mask[row * w + right + 1]) right++;
  let top = row;
  while (top > 0 && mask[(top - 1) * w + col]) top--;
  const cmPerPx = cz / k.f;
  const faceHalf = Math.max(...sides.map((v) => Math.abs(V(v, 0))));
  const rx = Math.max(faceHalf, ((right - left + 1) / 2) * cmPerPx);
  const ry = Math.max(faceHalf, (cv - top) * cmPerPx);
  // Through the forehead (canonical 151), where the face's upper rim meets the hair.
  const fy = (V(151, 1) - yc) / ry;
  const rz = Math.abs(fy) < 0.95 ? Math.max(faceHalf, (V(151, 2) - zc) / Math.sqrt(1 - fy * fy)) : 1.2 * rx;
  // Pixels: head, not on the face's hull, above the subnasale's row; the mask eroded by a pixel.
  const hull = new Uint8Array(w * h);
  {
    const pts: [number, number][] = [];
    for (let q = 0; q < mesh2.length / 2; q++) pts.push([mesh2[q * 2], mesh2[q * 2 + 1]]);
    fillPolygon(hull, w, h, convexHull(pts), 1);
  }
  const subnasaleV = mesh2[2 * 2 + 1];
  const pts: number[] = [];
  const nrm: number[] = [];
  const uvs: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    if (y + 0.5 > subnasaleV) break;
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (!mask[i] || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w] || hull[i]) continue;
      const u = x + 0.5;
      const v = y + 0.5;
      const d = ray(u, v);
      // Ellipsoid front intersection (scaled to a unit sphere), else the centre plane.
      const o = [(C[0] - centre[0]) / rx, (C[1] - centre[1]) / ry, (C[2] - centre[2]) / rz];
      const e = [d[0] / rx, d[1] / ry, d[2] / rz];
      const a = e[0] * e[0] + e[1] * e[1] + e[2] * e[2];
      const b = 2 * (o[0] * e[0] + o[1] * e[1] + o[2] * e[2]);
      const c = o[0] * o[0] + o[1] * o[1] + o[2] * o[2] - 1;
      const disc = b * b - 4 * a * c;
      const s = disc >= 0 ? (-b - Math.sqrt(disc)) / (2 * a) : (zc - C[2]) / d[2];
      if (!(s > 0)) continue;
      const len = Math.hypot(d[0], d[1], d[2]);
      for (let q = 0; q < 3; q++) {
        pts.push(C[q] + s * d[q]);
        nrm.push(-d[q] / len);
      }
      uvs.push(u, v);
    }
  }
  const total = uvs.length / 2;
  const stride = Math.max(1, total / MAX_SHELL_SAMPLES);
  const keep = Math.floor(total / stride);
  const out: FaceTexture = { points: new Float64Array(keep * 3), normals: new Float64Array(keep * 3), uv: new Float64Array(keep * 2) };
  for (let j = 0; j < keep; j++) {
    const i = Math.floor(j * stride);
    out.points.set(pts.slice(i * 3, i * 3 + 3), j * 3);
    out.normals.set(nrm.slice(i * 3, i * 3 + 3), j * 3);
    out.uv.set(uvs.slice(i * 2, i * 2 + 2), j * 2);
  }
  return out;
}

/** Huber threshold of photometricScan, in robust standard deviations of the residual. */
const SCAN_HUBER = 1.345;

/**
 * Scores textures (a head shell's depth, a template's relief) by the photometric misfit of their
 * own refined poses on a set of frames (`levels[j]`, refined from `starts[j]`). Every texture is
 * scored on one robust scale, set by the first one scored, so the costs compare.
 */
export function photometricScan(refLevels: GrayImage[], levels: GrayImage[][], starts: HeadPose[], k: Intrinsics): (tex: FaceTexture) => { cost: number; poses: HeadPose[] } {
  let scale = NaN;
  return (tex) => {
    const rv = referenceValues(tex, refLevels);
    const fine = rv.length - 1;
    const poses = starts.map((p, j) => refinePosePhotometric(tex, rv, levels[j], k, p).pose);
    if (Number.isNaN(scale)) {
      const sig = poses.map((p, j) => photometricCost(tex, rv[fine], levels[j][fine], k, p, 1).sigma).sort((a, b) => a - b);
      scale = Math.max(1, SCAN_HUBER * sig[sig.length >> 1]);
    }
    return { cost: poses.reduce((acc, p, j) => acc + photometricCost(tex, rv[fine], levels[j][fine], k, p, scale).cost, 0) / poses.length, poses };
  };
}

/** Two textures as one (the face's and the head shell's samples). */
export function joinTextures(a: FaceTexture, b: FaceTexture): FaceTexture {
  const cat = (x: Float64Array, y: Float64Array) => {
    const o = new Float64Array(x.length + y.length);
    o.set(x);
    o.set(y, x.length);
    return o;
  };
  return { points: cat(a.points, b.points), normals: cat(a.normals, b.normals), uv: cat(a.uv, b.uv) };
}

/** The reference's grey value of every texture sample at every level (NaN outside the image). */
export function referenceValues(tex: FaceTexture, refLevels: GrayImage[]): Float64Array[] {
  const n = tex.uv.length / 2;
  return refLevels.map((img) => {
    const out = new Float64Array(n);
    for (let s = 0; s < n; s++) out[s] = sample(img, tex.uv[s * 2], tex.uv[s * 2 + 1]) ? sampled[0] : NaN;
    return out;
  });
}

/** Head-space surface samples: a texture's points and unit normals (n x 3), without its pixels. */
export type SurfaceSamples = Pick<FaceTexture, 'points' | 'normals'>;

/**
 * Texture sample `s` seen through the pose (R, t) in `img`: its grey value, NaN when it is behind
 * the camera, turned away from it or outside the image; and into rows[at..at+6) the value's
 * derivative by the pose's six parameters (a left rotation increment, then translation).
 */
export function seeSample(tex: SurfaceSamples, s: number, R: Mat3, t: readonly number[], img: GrayImage, k: Intrinsics, rows: Float64Array, at: number): number {
  const X0 = tex.points[s * 3];
  const X1 = tex.points[s * 3 + 1];
  const X2 = tex.points[s * 3 + 2];
  const p0 = R[0] * X0 + R[1] * X1 + R[2] * X2;
  const p1 = R[3] * X0 + R[4] * X1 + R[5] * X2;
  const p2 = R[6] * X0 + R[7] * X1 + R[8] * X2;
  const c0 = p0 + t[0];
  const c1 = p1 + t[1];
  const c2 = p2 + t[2];
  if (!(c2 > 1e-3)) return NaN;
  const N0 = tex.normals[s * 3];
  const N1 = tex.normals[s * 3 + 1];
  const N2 = tex.normals[s * 3 + 2];
  const n0 = R[0] * N0 + R[1] * N1 + R[2] * N2;
  const n1 = R[3] * N0 + R[4] * N1 + R[5] * N2;
  const n2 = R[6] * N0 + R[7] * N1 + R[8] * N2;
  if (-(n0 * c0 + n1 * c1 + n2 * c2) / Math.hypot(c0, c1, c2) < MIN_FACING) return NaN;
  const iz = 1 / c2;
  if (!sample(img, k.f * c0 * iz + k.cx, k.f * c1 * iz + k.cy)) return NaN;
  const gx = sampled[1];
  const gy = sampled[2];
  // dI/d(cam): d(u,v)/d(cam) chained with the image gradient.
  const d0 = gx * k.f * iz;
  const d1 = gy * k.f * iz;
  const d2 = -(gx * k.f * c0 + gy * k.f * c1) * iz * iz;
  // cam = exp(omega) R X + t: dI/d omega = p x dI, dI/dt = dI.
  rows[at] = p1 * d2 - p2 * d1;
  rows[at + 1] = p2 * d0 - p0 * d2;
  rows[at + 2] = p0 * d1 - p1 * d0;
  rows[at + 3] = d0;
  rows[at + 4] = d1;
  rows[at + 5] = d2;
  return sampled[0];
}

export interface PhotometricResult {
  pose: HeadPose;
  /** Robust RMS photometric residual at the finest level (grey levels). */
  rms: number;
  /** Samples used at the finest level. */
  used: number;
}

/**
 * Refines `init` so the texture, seen from the refined pose, matches the frame. `refValues[i]`
 * come from `referenceValues` and `frameLevels[i]` is the frame blurred by the same radius.
 */
export function refinePosePhotometric(tex: FaceTexture, refValues: Float64Array[], frameLevels: GrayImage[], k: Intrinsics, init: HeadPose): PhotometricResult {
  const n = tex.uv.length / 2;
  let R: Mat3 = Float64Array.from(init.R);
  let t = [...init.t] as [number, number, number];
  let rms = Infinity;
  let used = 0;
  const rows = new Float64Array(n * 6);
  const obs = new Float64Array(n);
  const refs = new Float64Array(n);
  const res = new Float64Array(n);
  const absRes = new Float64Array(n);
  const H = new Float64Array(36);
  const g = new Float64Array(6);
  for (let level = 0; level < frameLevels.length; level++) {
    const img = frameLevels[level];
    const refVals = refValues[level];
    for (let it = 0; it < ITERATIONS; it++) {
      // Project, sample, then the gain/offset and a robust scale from this pose's residuals.
      used = 0;
      for (let s = 0; s < n; s++) {
        if (Number.isNaN(refVals[s])) continue;
        const v = seeSample(tex, s, R, t, img, k, rows, used * 6);
        if (Number.isNaN(v)) continue;
        obs[used] = v;
        refs[used] = refVals[s];
        used++;
      }
      if (used < MIN_USED) return { pose: init, rms: Infinity, used };
      const { gain, off } = gainOffset(refs, obs, used);
      for (let s = 0; s < used; s++) res[s] = obs[s] - gain * refs[s] - off;
      for (let s = 0; s < used; s++) absRes[s] = Math.abs(res[s]);
      const sigma = Math.max(1, 1.4826 * select(absRes, used, used >> 1));
      const thr = HUBER * sigma;
      H.fill(0);
      g.fill(0);
      let cost = 0;
      for (let s = 0; s < used; s++) {
        const e = res[s];
        const w = Math.abs(e) <= thr ? 1 : thr / Math.abs(e);
        cost += w * e * e;
        const r = s * 6;
        for (let a = 0; a < 6; a++) {
          const wa = w * rows[r + a];
          g[a] += wa * e;
          for (let b = a; b < 6; b++) H[a * 6 + b] += wa * rows[r + b];
        }
      }
      for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) H[a * 6 + b] = H[b * 6 + a];
      rms = Math.sqrt(cost / used);
      // A little damping keeps a step inside the linearisation's reach.
      for (let a = 0; a < 6; a++) H[a * 7] *= 1.001;
      const step = Float64Array.from(g, (v) => -v);
      if (!solveSpd(H, step, 6)) break;
      ({ R, t } = applyPoseStep({ R, t }, step));
      if (Math.hypot(step[0], step[1], step[2]) < STEP_ROT && Math.hypot(step[3], step[4], step[5]) < STEP_T) break;
    }
  }
  return { pose: { R, t }, rms, used };
}

/**
 * The photometric misfit of `pose` at one level, on a scale shared between calls (so different
 * focal lengths' fits compare): the frame's gain and offset against the reference fitted by
 * least squares, then the mean Huber loss of the residuals with threshold `scale` (grey levels),
 * over the samples the pose sees. `used` is how many those are.
 */
export function photometricCost(tex: FaceTexture, refVals: Float64Array, img: GrayImage, k: Intrinsics, pose: HeadPose, scale: number): { cost: number; used: number; sigma: number } {
  const n = tex.uv.length / 2;
  const { R, t } = pose;
  const obs: number[] = [];
  const refs: number[] = [];
  for (let s = 0; s < n; s++) {
    if (Number.isNaN(refVals[s])) continue;
    const X0 = tex.points[s * 3];
    const X1 = tex.points[s * 3 + 1];
    const X2 = tex.points[s * 3 + 2];
    const c0 = R[0] * X0 + R[1] * X1 + R[2] * X2 + t[0];
    const c1 = R[3] * X0 + R[4] * X1 + R[5] * X2 + t[1];
    const c2 = R[6] * X0 + R[7] * X1 + R[8] * X2 + t[2];
    if (!(c2 > 1e-3)) continue;
    const N0 = tex.normals[s * 3];
    const N1 = tex.normals[s * 3 + 1];
    const N2 = tex.normals[s * 3 + 2];
    const n0 = R[0] * N0 + R[1] * N1 + R[2] * N2;
    const n1 = R[3] * N0 + R[4] * N1 + R[5] * N2;
    const n2 = R[6] * N0 + R[7] * N1 + R[8] * N2;
    if (-(n0 * c0 + n1 * c1 + n2 * c2) / Math.hypot(c0, c1, c2) < MIN_FACING) continue;
    if (!sample(img, (k.f * c0) / c2 + k.cx, (k.f * c1) / c2 + k.cy)) continue;
    obs.push(sampled[0]);
    refs.push(refVals[s]);
  }
  const used = obs.length;
  if (used < MIN_USED) return { cost: Infinity, used, sigma: Infinity };
  const { gain, off } = gainOffset(refs, obs, used);
  const abs = obs.map((o, s) => Math.abs(o - gain * refs[s] - off));
  let cost = 0;
  for (const e of abs) cost += e <= scale ? 0.5 * e * e : scale * (e - 0.5 * scale);
  // Samples the pose does not see count as a residual of 3 scales, over every sample the
  // reference has: a mean over the seen ones alone would favour poses (and focals) that turn
  // the hard, grazing samples out of view.
  let total = 0;
  for (let s = 0; s < n; s++) if (!Number.isNaN(refVals[s])) total++;
  cost += (total - used) * 2.5 * scale * scale;
  const sorted = Float64Array.from(abs).sort();
  return { cost: cost / total, used, sigma: 1.4826 * sorted[used >> 1] };
}

/**
 * The frame's lighting against the reference: least-squares gain and offset of the first
 * `used` observed samples on the reference values (gain 1 when the reference is flat).
 */
export function gainOffset(
  refs: ArrayLike<number>,
  obs: ArrayLike<number>,
  used: number,
): { gain: number; off: number } {
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
  return { gain, off: (sy - gain * sx) / used };
}
