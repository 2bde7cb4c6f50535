import { describe, expect, it } from 'vitest';
import { goldenSection, goldenSectionAsync } from '../../worker/util/golden-section.ts';

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

  it('takes an asynchronous objective through the same points to the same bracket', async () => {
    const f = (x: number) => Math.cos(x) + 0.1 * x;
    const seen: number[] = [];
    const sync = goldenSection((x) => (seen.push(x), f(x)), 2, 5, 25);
    const seenAsync: number[] = [];
    const async = await goldenSectionAsync(async (x) => (seenAsync.push(x), await Promise.resolve(f(x))), 2, 5, 25);
    expect(seenAsync).toEqual(seen);
    expect(async).toEqual(sync);
  });
});
