import { describe, expect, it } from 'vitest';
import { closureRate, lipOpening, pearson, silenceDeviation } from '../../worker/landmarks/quality.ts';

function track(open: number[]): Float32Array {
  const x = new Float32Array(open.length * 204);
  open.forEach((o, t) => {
    x[t * 204 + 62 * 3 + 1] = 0.5 * o;
    x[t * 204 + 66 * 3 + 1] = -0.5 * o;
  });
  return x;
}

describe('generator quality measures', () => {
  it('lip opening is the vertical gap of inner-lip points 62 and 66', () => {
    expect(Array.from(lipOpening(track([0, 1, 2]), 3))).toEqual([0, 1, 2]);
  });

  it('pearson is 1 for an affine copy, -1 for a mirrored one, 0 for a constant', () => {
    expect(pearson([1, 2, 3, 5], [3, 5, 7, 11])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3], [4, 4, 4])).toBe(0);
  });

  it('closure rate counts closure frames below 20% of the opening range', () => {
    const open = Float32Array.from([0, 10, 10, 1, 10, 5, 10, 0, 10, 10]);
    expect(closureRate(open, [0, 3, 5, 7])).toBeCloseTo(3 / 4, 12);
    expect(() => closureRate(open, [10])).toThrow(/closureFrames/);
  });

  it('silence deviation is the largest point distance from rest', () => {
    const x = track([0, 0, 0.3]);
    expect(silenceDeviation(x, [0, 1], new Float32Array(204))).toBe(0);
    expect(silenceDeviation(x, [2], new Float32Array(204))).toBeCloseTo(0.15, 6);
  });
});
