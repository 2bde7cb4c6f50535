/**
 * Occupancy-bitfield ray marching with the reference's image-wide pass schedule
 * (model-spec §6, §7b.1-3; raymarching.cu kernel_march_rays / kernel_composite_rays and
 * the inference loop of renderer.py run_cuda). One cascade, bound 1.
 *
 * All ray state is float32 (Math.fround at every step) so sample positions land exactly
 * where a float32 GPU implementation puts them.
 */
import type { MarchConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';

const f = Math.fround;
const SQRT3_F32 = f(1.7320508075688772);

/** Rays of one image, ray i at [3i, 3i+3) of origins/directions. */
export interface RayBatch {
  count: number;
  origins: Float32Array;
  directions: Float32Array;
  nears: Float32Array;
  fars: Float32Array;
}

/** Evaluates the field at sample x with view direction d: out[0] = sigma, out[1..3] = rgb. */
export type SampleField = (x: Float32Array, d: Float32Array, out: Float32Array) => void;

export interface MarchSample {
  /** ray parameter of the sample (the sample sits at t itself, not a mid-point) */
  t: number;
  /** clamp(o + t d, -1, 1) */
  x: [number, number, number];
  dt: number;
}

export interface MarchImageResult {
  /** Accumulated head colour per ray (premultiplied by weight), N*3. */
  rgb: Float32Array;
  weightSum: Float32Array;
  /** Samples composited per ray. */
  samplesPerRay: Uint16Array;
  /** n_step of each pass. */
  passes: number[];
  /** Per ray, the composited samples in order (only with recordSamples). */
  samples: MarchSample[][] | null;
}

/** fminf / fmaxf: a NaN operand yields the other operand. */
function fminf(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return a < b ? a : b;
}
function fmaxf(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return a > b ? a : b;
}
/** The kernel's clamp: fminf(hi, fmaxf(lo, x)). */
function clampf(x: number, lo: number, hi: number): number {
  return fminf(hi, fmaxf(lo, x));
}
function signf(x: number): number {
  return x < 0 || Object.is(x, -0) ? -1 : 1;
}

function expandBits(v: number): number {
  v = Math.imul(v, 0x00010001) & 0xff0000ff;
  v = Math.imul(v, 0x00000101) & 0x0f00f00f;
  v = Math.imul(v, 0x00000011) & 0xc30c30c3;
  v = Math.imul(v, 0x00000005) & 0x49249249;
  return v >>> 0;
}

/** Morton index of cell (x, y, z): x bits at 3k, y at 3k+1, z at 3k+2. */
export function morton3D(x: number, y: number, z: number): number {
  return (expandBits(x) | (expandBits(y) << 1) | (expandBits(z) << 2)) >>> 0;
}

/** Step constants of the kernel: dt = clamp(t*dtGamma, dtMin, dtMax). */
export function stepBounds(march: MarchConfig): { dtMin: number; dtMax: number } {
  const dtMax = f(f(2 * SQRT3_F32) / march.gridResolution);
  const dtMin = fminf(dtMax, f(f(2 * SQRT3_F32) / march.maxSteps));
  return { dtMin, dtMax };
}

export function checkBitfield(bitfield: Uint8Array, march: MarchConfig): void {
  const H = march.gridResolution;
  if (!(bitfield instanceof Uint8Array) || bitfield.length !== (H * H * H) / 8) {
    throw new ConfigError(`bitfield: expected ${(H * H * H) / 8} bytes for a ${H}^3 grid, got ${bitfield?.length}`);
  }
}

/** Occupancy cell of a coordinate in [-1, 1]: int(clamp(0.5*(x+1)*H, 0, H-1)). */
function cellOf(x: number, H: number): number {
  return Math.trunc(clampf(f(x + 1) * 0.5 * H, 0, H - 1));
}

/**
 * kernel_march_rays for one ray: from t, records up to nStep occupied samples into
 * xyz (3 per sample), ts (t of the sample) and dts (its dt); returns how many. The ray's
 * t after sample k is fround(ts[k] + dts[k]).
 */
export function marchRay(
  o: ArrayLike<number>,
  d: ArrayLike<number>,
  tStart: number,
  far: number,
  nStep: number,
  bitfield: Uint8Array,
  march: MarchConfig,
  xyz: Float32Array,
  ts: Float32Array,
  dts: Float32Array,
): number {
  const H = march.gridResolution;
  const rH = f(1 / H);
  const { dtMin, dtMax } = stepBounds(march);
  const gamma = f(march.dtGamma);
  const [ox, oy, oz] = [o[0], o[1], o[2]];
  const [dx, dy, dz] = [d[0], d[1], d[2]];
  const rdx = f(1 / dx);
  const rdy = f(1 / dy);
  const rdz = f(1 / dz);
  let t = f(tStart);
  let step = 0;
  while (t < far && step < nStep) {
    const x = clampf(f(ox + t * dx), -1, 1);
    const y = clampf(f(oy + t * dy), -1, 1);
    const z = clampf(f(oz + t * dz), -1, 1);
    const dt = clampf(f(t * gamma), dtMin, dtMax);
    const nx = cellOf(x, H);
    const ny = cellOf(y, H);
    const nz = cellOf(z, H);
    const index = morton3D(nx, ny, nz);
    if (bitfield[index >>> 3] & (1 << (index & 7))) {
      xyz[step * 3] = x;
      xyz[step * 3 + 1] = y;
      xyz[step * 3 + 2] = z;
      ts[step] = t;
      dts[step] = dt;
      t = f(t + dt);
      step++;
    } else {
      // Jump to the next cell boundary, then advance on the dt lattice until past it.
      const tx = f(f(f(f(f(f(nx + 0.5) + 0.5 * signf(dx)) * rH) * 2 - 1) - x) * rdx);
      const ty = f(f(f(f(f(f(ny + 0.5) + 0.5 * signf(dy)) * rH) * 2 - 1) - y) * rdy);
      const tz = f(f(f(f(f(f(nz + 0.5) + 0.5 * signf(dz)) * rH) * 2 - 1) - z) * rdz);
      const tt = f(t + fmaxf(0, fminf(tx, fminf(ty, tz))));
      // Each turn adds at least dtMin > 0; stopping at far keeps a degenerate tt finite-bounded.
      do {
        t = f(t + clampf(f(t * gamma), dtMin, dtMax));
      } while (t < tt && t < far);
    }
  }
  return step;
}

/**
 * The reference's inference loop over the whole image: while the global step counter is
 * below maxSteps, every alive ray gets n_step = max(min(N // n_alive, maxStepsPerPass), 1)
 * new samples, which are composited; a ray that could not fill its n_step slots, or whose
 * transmittance fell below the threshold, dies. Rays that miss (near = far = +inf) are alive
 * in the first pass and die there.
 */
export function marchImage(
  rays: RayBatch,
  bitfield: Uint8Array,
  march: MarchConfig,
  field: SampleField,
  opts: { recordSamples?: boolean } = {},
): MarchImageResult {
  const N = rays.count;
  if (!Number.isInteger(N) || N < 1) throw new ConfigError(`rays.count: expected a positive integer, got ${N}`);
  for (const [name, arr, len] of [
    ['origins', rays.origins, 3 * N],
    ['directions', rays.directions, 3 * N],
    ['nears', rays.nears, N],
    ['fars', rays.fars, N],
  ] as const) {
    if (!(arr instanceof Float32Array) || arr.length !== len) throw new ConfigError(`rays.${name}: expected ${len} float32 values, got ${arr?.length}`);
  }
  checkBitfield(bitfield, march);

  const rgb = new Float32Array(N * 3);
  const weightSum = new Float32Array(N);
  const samplesPerRay = new Uint16Array(N);
  const raysT = Float32Array.from(rays.nears);
  const samples: MarchSample[][] | null = opts.recordSamples ? Array.from({ length: N }, () => []) : null;
  const passes: number[] = [];

  const maxPerPass = march.maxStepsPerPass;
  const xyz = new Float32Array(maxPerPass * 3);
  const ts = new Float32Array(maxPerPass);
  const dts = new Float32Array(maxPerPass);
  const xs = new Float32Array(3);
  const ds = new Float32Array(3);
  const o = new Float32Array(3);
  const out = new Float32Array(4);
  const tThreshold = march.tThreshold;

  let alive = new Int32Array(N);
  for (let i = 0; i < N; i++) alive[i] = i;
  let nAlive = N;
  let step = 0;
  while (step < march.maxSteps && nAlive > 0) {
    const nStep = Math.max(Math.min(Math.floor(N / nAlive), maxPerPass), 1);
    let kept = 0;
    const next = new Int32Array(nAlive);
    for (let a = 0; a < nAlive; a++) {
      const r = alive[a];
      for (let k = 0; k < 3; k++) {
        o[k] = rays.origins[r * 3 + k];
        ds[k] = rays.directions[r * 3 + k];
      }
      const filled = marchRay(o, ds, raysT[r], rays.fars[r], nStep, bitfield, march, xyz, ts, dts);

      // kernel_composite_rays: T is 1 - (sum of weights so far), tested after the sample is added.
      let t = raysT[r];
      let ws = weightSum[r];
      let cr = rgb[r * 3];
      let cg = rgb[r * 3 + 1];
      let cb = rgb[r * 3 + 2];
      let s = 0;
      while (s < nStep) {
        if (s >= filled) break; // an empty slot (delta == 0) ends the ray
        xs[0] = xyz[s * 3];
        xs[1] = xyz[s * 3 + 1];
        xs[2] = xyz[s * 3 + 2];
        field(xs, ds, out);
        const dt = dts[s];
        const alpha = f(1 - Math.exp(-f(out[0] * dt)));
        const T = f(1 - ws);
        const w = f(alpha * T);
        ws = f(ws + w);
        t = f(ts[s] + dt);
        cr = f(cr + f(w * out[1]));
        cg = f(cg + f(w * out[2]));
        cb = f(cb + f(w * out[3]));
        samplesPerRay[r]++;
        samples?.[r].push({ t: ts[s], x: [xs[0], xs[1], xs[2]], dt });
        if (T < tThreshold) break;
        s++;
      }
      weightSum[r] = ws;
      rgb[r * 3] = cr;
      rgb[r * 3 + 1] = cg;
      rgb[r * 3 + 2] = cb;
      if (s < nStep) continue; // dead
      raysT[r] = t;
      next[kept++] = r;
    }
    passes.push(nStep);
    step += nStep;
    alive = next;
    nAlive = kept;
  }
  return { rgb, weightSum, samplesPerRay, passes, samples };
}
