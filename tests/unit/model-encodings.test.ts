import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../worker/errors.ts';
import { freqEncode } from '../../worker/model/freq.ts';
import { shEncode } from '../../worker/model/sh.ts';

describe('shEncode', () => {
  it('matches the tiny-cuda-nn degree-4 table, signs included', () => {
    const n = Math.hypot(0.3, -0.5, 0.8);
    const [x, y, z] = [0.3 / n, -0.5 / n, 0.8 / n];
    const expected = [
      0.28209479177387814,
      -0.48860251190291987 * y,
      0.48860251190291987 * z,
      -0.48860251190291987 * x,
      1.0925484305920792 * x * y,
      -1.0925484305920792 * y * z,
      0.94617469575755997 * z * z - 0.31539156525251999,
      -1.0925484305920792 * x * z,
      0.54627421529603959 * (x * x - y * y),
      0.59004358992664352 * y * (-3 * x * x + y * y),
      2.8906114426405538 * x * y * z,
      0.45704579946446572 * y * (1 - 5 * z * z),
      0.3731763325901154 * z * (5 * z * z - 3),
      0.45704579946446572 * x * (1 - 5 * z * z),
      1.4453057213202769 * z * (x * x - y * y),
      0.59004358992664352 * x * (-x * x + 3 * y * y),
    ];
    const out = new Float32Array(17).fill(7);
    shEncode([x, y, z], 4, out, 1);
    expect(out[0]).toBe(7);
    for (let i = 0; i < 16; i++) expect(out[1 + i]).toBeCloseTo(expected[i], 6);
  });

  it('writes only degree^2 values for lower degrees', () => {
    const out = new Float32Array(5).fill(7);
    shEncode([0, 0, 1], 2, out, 0);
    expect(Array.from(out, (v) => v + 0)).toEqual([Math.fround(0.28209479177387814), 0, Math.fround(0.48860251190291987), 0, 7]);
  });

  it('rejects degree 5 with ConfigError', () => {
    expect(() => shEncode([0, 0, 1], 5, new Float32Array(25), 0)).toThrow(ConfigError);
  });
});

describe('freqEncode', () => {
  it('orders raw inputs, then per octave all sines then all cosines', () => {
    const [a, b] = [0.3, -1.2];
    const out = new Float32Array(10);
    freqEncode([a, b], 2, 2, out, 0);
    const expected = [a, b, Math.sin(a), Math.sin(b), Math.cos(a), Math.cos(b), Math.sin(2 * a), Math.sin(2 * b), Math.cos(2 * a), Math.cos(2 * b)];
    for (let i = 0; i < 10; i++) expect(out[i]).toBeCloseTo(expected[i], 6);
  });

  it('degree 0 copies the inputs only', () => {
    const out = new Float32Array(3);
    freqEncode([1, 2, 3], 3, 0, out, 0);
    expect(Array.from(out)).toEqual([1, 2, 3]);
  });

  it('rejects an output too short for dims + 2*dims*degree values', () => {
    expect(() => freqEncode([1, 2], 2, 10, new Float32Array(41), 0)).toThrow(/freqEncode\.out/);
  });
});
