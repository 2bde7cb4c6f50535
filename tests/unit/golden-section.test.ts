import { describe, expect, it } from 'vitest';
import { goldenSection } from '../../worker/util/golden-section.ts';

describe('goldenSection', () => {
  it('brackets the minimum of a unimodal function, one evaluation a step after the first two', () => {
    const seen: number[] = [];
    const r = goldenSection((x) => (seen.push(x), (x - 2.3) ** 2), 0, 5, 30);
    expect(seen).toHaveLength(32);
    expect(r.lo).toBeLessThanOrEqual(2.3);
    expect(r.hi).toBeGreaterThanOrEqual(2.3);
    expect(r.hi - r.lo).toBeLessThan(5 * 0.618 ** 29);
    expect(Math.abs(r.best - 2.3)).toBeLessThan(1e-5);
    expect(r.bestValue).toBe((r.best - 2.3) ** 2);
  });

  it('keeps to the bracket when the minimum is at an end', () => {
    const r = goldenSection((x) => x, 1, 3, 20);
    expect(r.lo).toBeGreaterThanOrEqual(1);
    expect(r.best - 1).toBeLessThan(1e-3);
  });
});
