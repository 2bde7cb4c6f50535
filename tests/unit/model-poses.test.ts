import { describe, expect, it } from 'vitest';
import { eulerXYZ, pingPongIndex, poseInput, smoothEye, smoothPoses } from '../../worker/model/poses.ts';

type M3 = number[][];
const mul = (a: M3, b: M3): M3 => a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
const rx = (a: number): M3 => [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
const ry = (a: number): M3 => [[Math.cos(a), 0, Math.sin(a)], [0, 1, 0], [-Math.sin(a), 0, Math.cos(a)]];
const rz = (a: number): M3 => [[Math.cos(a), -Math.sin(a), 0], [Math.sin(a), Math.cos(a), 0], [0, 0, 1]];
const pose = (R: M3, t: number[]): number[] => [...R[0], t[0], ...R[1], t[1], ...R[2], t[2], 0, 0, 0, 1];

function track(list: number[][]): Float32Array {
  return Float32Array.from(list.flat());
}

describe('eulerXYZ', () => {
  it('inverts R = Rx(a) Ry(b) Rz(c) (pytorch3d XYZ convention)', () => {
    const [a, b, c] = [0.3, -0.4, 1.1];
    const R = mul(mul(rx(a), ry(b)), rz(c));
    const e = eulerXYZ(pose(R, [0, 0, 0]));
    expect(e[0]).toBeCloseTo(a, 6);
    expect(e[1]).toBeCloseTo(b, 6);
    expect(e[2]).toBeCloseTo(c, 6);
    expect(eulerXYZ(R.flat())[2]).toBeCloseTo(c, 6);
  });

  it('poseInput is [euler, translation]', () => {
    const out = new Float32Array(6);
    poseInput(pose(rx(0.2), [1, 2, 3]), out);
    expect(out[0]).toBeCloseTo(0.2, 6);
    expect(Array.from(out.slice(1), (v) => v + 0)).toEqual([0, 0, 1, 2, 3]);
  });
});

describe('smoothPoses', () => {
  it('leaves a constant pose track unchanged', () => {
    const p = pose(mul(rx(0.3), ry(0.2)), [0.5, -1, 3]);
    const out = smoothPoses(track([p, p, p, p]), 4);
    for (let i = 0; i < 4; i++) for (let k = 0; k < 16; k++) expect(out[i * 16 + k]).toBeCloseTo(p[k], 6);
  });

  it('averages rotations by the quaternion mean: +-theta about z around identity gives identity, not the matrix mean', () => {
    const out = smoothPoses(track([pose(rz(-0.8), [0, 0, 0]), pose(rz(0), [0, 0, 0]), pose(rz(0.8), [3, 0, 0])]), 3);
    const I = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 12; k++) if (k % 4 !== 3) expect(out[i * 16 + k]).toBeCloseTo(I[k], 6);
      expect(out[i * 16 + 3]).toBeCloseTo(1, 6);
    }
  });

  it('clips the +-3 window at the ends: pose 0 of 8 averages poses 0..3, pose 5 averages 2..7', () => {
    const list = Array.from({ length: 8 }, (_, i) => pose(rz(0.1 * i), [i, 0, 0]));
    const out = smoothPoses(track(list), 8);
    expect(out[3]).toBeCloseTo(1.5, 5);
    expect(out[5 * 16 + 3]).toBeCloseTo(4.5, 5);
    // equal-weight rotations about one axis: the chordal mean is the mid angle 0.15 (poses 0..3)
    const expected = rz(0.15);
    expect(out[0]).toBeCloseTo(expected[0][0], 5);
    expect(out[1]).toBeCloseTo(expected[0][1], 5);
    expect(out[4]).toBeCloseTo(expected[1][0], 5);
  });

  it('the chordal mean of two rotations about one axis is the half-angle rotation', () => {
    const out = smoothPoses(track([pose(ry(0), [0, 0, 0]), pose(ry(1.0), [0, 0, 0])]), 2, 1);
    const R = ry(0.5);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) expect(out[r * 4 + c]).toBeCloseTo(R[r][c], 6);
  });
});

describe('pingPongIndex and smoothEye', () => {
  it('plays a track of 3 forwards, backwards, forwards', () => {
    expect(Array.from({ length: 10 }, (_, i) => pingPongIndex(i, 3))).toEqual([0, 1, 2, 2, 1, 0, 0, 1, 2, 2]);
    expect(pingPongIndex(5, 1)).toBe(0);
  });

  it('smoothEye averages i-1..i+1 clipped at the ends, and is 0.25 without an eye track', () => {
    const eye = Float32Array.from([0.1, 0.2, 0.6]);
    expect(smoothEye(eye, 3, 0)).toBeCloseTo(0.15, 6);
    expect(smoothEye(eye, 3, 1)).toBeCloseTo(0.3, 6);
    expect(smoothEye(eye, 3, 2)).toBeCloseTo(0.4, 6);
    expect(smoothEye(undefined, 3, 1)).toBe(0.25);
  });
});
