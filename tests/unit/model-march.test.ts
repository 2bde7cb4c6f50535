import { describe, expect, it } from 'vitest';
import type { MarchConfig } from '../../worker/avatar/config.ts';
import { marchImage, morton3D, type RayBatch, type SampleField } from '../../worker/model/march.ts';
import { nearFar, rayDirection } from '../../worker/model/rays.ts';
import { dt128 } from '../helpers/model-fixtures.ts';

const f = Math.fround;
const MARCH: MarchConfig = { gridResolution: 128, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 };
const FULL = new Uint8Array(128 ** 3 / 8).fill(0xff);
const transparent: SampleField = (_x, _d, out) => out.fill(0);

/** t_0 = start, t_{k+1} = float32(t_k + dt): the lattice every ray walks. */
function lattice(start: number, count: number): number[] {
  const dt = dt128();
  const out = [f(start)];
  while (out.length < count) out.push(f(out[out.length - 1] + dt));
  return out;
}

/** Rays along +x from the origin with near 0 and a far that admits exactly `samples` samples (Infinity: a miss). */
function raysWithSampleCounts(counts: number[]): RayBatch {
  const n = counts.length;
  const rays: RayBatch = { count: n, origins: new Float32Array(3 * n), directions: new Float32Array(3 * n), nears: new Float32Array(n), fars: new Float32Array(n) };
  const t = lattice(0, 64);
  counts.forEach((c, i) => {
    rays.directions[i * 3] = 1;
    if (c === 0) {
      rays.nears[i] = Infinity;
      rays.fars[i] = Infinity;
    } else {
      rays.fars[i] = (t[c - 1] + t[c]) / 2;
    }
  });
  return rays;
}

describe('morton3D', () => {
  it('puts x bits at 3k, y at 3k+1, z at 3k+2', () => {
    expect(morton3D(1, 0, 0)).toBe(1);
    expect(morton3D(0, 1, 0)).toBe(2);
    expect(morton3D(0, 0, 1)).toBe(4);
    expect(morton3D(2, 0, 0)).toBe(8);
    expect(morton3D(127, 127, 127)).toBe(2 ** 21 - 1);
    let expected = 0;
    const [x, y, z] = [93, 6, 77];
    for (let k = 0; k < 7; k++) expected += (((x >> k) & 1) << (3 * k)) + (((y >> k) & 1) << (3 * k + 1)) + (((z >> k) & 1) << (3 * k + 2));
    expect(morton3D(x, y, z)).toBe(expected);
  });
});

describe('marchImage pass schedule', () => {
  it('gives 1+2+3+3+3+4 = 16 when 6 of 12 rays miss, 2 end in pass 2 and 1 in pass 5', () => {
    const rays = raysWithSampleCounts([0, 0, 0, 0, 0, 0, 2, 2, 10, 40, 40, 40]);
    const r = marchImage(rays, FULL, MARCH, transparent, { recordSamples: true });
    expect(r.passes).toEqual([1, 2, 3, 3, 3, 4]);
    expect(Array.from(r.samplesPerRay)).toEqual([0, 0, 0, 0, 0, 0, 2, 2, 10, 16, 16, 16]);
    const t = lattice(0, 16);
    expect(r.samples![9].map((s) => s.t)).toEqual(t);
    expect(r.samples![8].map((s) => s.t)).toEqual(t.slice(0, 10));
    expect(r.samples![9][5].x).toEqual([Math.min(1, t[5]), 0, 0]);
    expect(r.samples![9].every((s) => s.dt === dt128())).toBe(true);
  });

  it('gives 1+5+6+8 = 20 when 24 of 30 rays miss, 1 ends in pass 2 and 2 in pass 3', () => {
    const counts = [...new Array(24).fill(0), 3, 6, 9, 40, 40, 40];
    const r = marchImage(raysWithSampleCounts(counts), FULL, MARCH, transparent, { recordSamples: true });
    expect(r.passes).toEqual([1, 5, 6, 8]);
    expect(Array.from(r.samplesPerRay.slice(24))).toEqual([3, 6, 9, 20, 20, 20]);
    expect(r.samples![29].map((s) => s.t)).toEqual(lattice(0, 20));
  });

  it('uses floor division and may overshoot 16: 3 alive of 7 rays march 2 per pass, 1+2x8 = 17', () => {
    const r = marchImage(raysWithSampleCounts([0, 0, 0, 0, 40, 40, 40]), FULL, MARCH, transparent);
    expect(r.passes).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(Array.from(r.samplesPerRay.slice(4))).toEqual([17, 17, 17]);
  });

  it('a lone ray gets one sample per pass, 16 in all', () => {
    const r = marchImage(raysWithSampleCounts([40]), FULL, MARCH, transparent);
    expect(r.passes).toEqual(new Array(16).fill(1));
    expect(r.samplesPerRay[0]).toBe(16);
  });

  it('stops a ray after the sample at which the transmittance before it fell below 1e-4', () => {
    const dt = dt128();
    const half: SampleField = (_x, _d, out) => {
      out[0] = Math.LN2 / dt; // alpha = 1/2 per sample
      out[1] = 1;
      out[2] = out[3] = 0;
    };
    const r = marchImage(raysWithSampleCounts([40]), FULL, MARCH, half);
    // T before sample i is 2^-i: 2^-14 < 1e-4 <= 2^-13, so samples 0..14 are composited
    expect(r.samplesPerRay[0]).toBe(15);
    expect(r.passes.length).toBe(15);
    expect(r.weightSum[0]).toBeCloseTo(1 - 2 ** -15, 5);
    expect(r.rgb[0]).toBeCloseTo(1 - 2 ** -15, 5);
  });
});

describe('marchImage empty-space skipping', () => {
  it('samples only the lattice points near + k*dt that lie in occupied cells', () => {
    // occupied: cells x 64..69 (x in [0, 0.09375)), y = z = 64
    const bits = new Uint8Array(128 ** 3 / 8);
    for (let nx = 64; nx <= 69; nx++) {
      const i = morton3D(nx, 64, 64);
      bits[i >> 3] |= 1 << (i & 7);
    }
    const rays: RayBatch = {
      count: 1,
      origins: Float32Array.from([-1.5, 0.003, 0.003]),
      directions: Float32Array.from([1, 0, 0]),
      nears: Float32Array.from([0.5]),
      fars: Float32Array.from([2.5]),
    };
    const r = marchImage(rays, bits, MARCH, transparent, { recordSamples: true });
    const expected = lattice(0.5, 80).filter((t) => {
      const x = f(-1.5 + t);
      const cell = Math.floor((x + 1) * 64);
      return cell >= 64 && cell <= 69;
    });
    expect(expected.length).toBe(4);
    expect(r.samples![0].map((s) => s.t)).toEqual(expected);
    expect(r.passes).toEqual([1, 1, 1, 1, 1]);
  });

  it('an empty bitfield gives no samples and one pass', () => {
    const r = marchImage(raysWithSampleCounts([40, 40]), new Uint8Array(128 ** 3 / 8), MARCH, transparent);
    expect(Array.from(r.samplesPerRay)).toEqual([0, 0]);
    expect(r.passes).toEqual([1]);
    expect(Array.from(r.weightSum)).toEqual([0, 0]);
  });
});

describe('rays', () => {
  const cam = { fx: 100, fy: 50, cx: 4, cy: 4, width: 8, height: 8 };
  it('the pixel at the principal point looks along the camera z axis, rotated by R and not renormalised', () => {
    const out = new Float32Array(3);
    rayDirection(cam, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 3.5, 3.5, out);
    expect(Array.from(out, (v) => v + 0)).toEqual([0, 0, 1]);
    // R = 2 * (rotation of +90 deg about y): camera z -> world 2x
    rayDirection(cam, [0, 0, 2, 0, 0, 2, 0, 0, -2, 0, 0, 0], 3.5, 3.5, out);
    expect(Array.from(out, (v) => v + 0)).toEqual([2, 0, 0]);
  });

  it('uses (col+0.5-cx)/fx and (row+0.5-cy)/fy, normalised', () => {
    const out = new Float32Array(3);
    rayDirection(cam, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 7, 0, out);
    const v = [3.5 / 100, -3.5 / 50, 1];
    const n = Math.hypot(...v);
    for (let k = 0; k < 3; k++) expect(out[k]).toBeCloseTo(v[k] / n, 7);
  });

  it('nearFar clips to the aabb, raises near to minNear, and gives +inf for misses', () => {
    const aabb = [-1, -0.5, -1, 1, 0.5, 1];
    expect(nearFar([0, 0, -3], [0, 0, 1], aabb, 0.05)).toEqual([2, 4]);
    expect(nearFar([0, 0, 0], [0, 0, 1], aabb, 0.05)).toEqual([f(0.05), 1]);
    expect(nearFar([0, 2, -3], [0, 0, 1], aabb, 0.05)).toEqual([Infinity, Infinity]);
    // pointing away: the kernel does not flag a miss, it returns far < near (no samples)
    expect(nearFar([0, 0, -3], [0, 0, -1], aabb, 0.05)).toEqual([f(0.05), -2]);
  });
});
