import { expect } from 'vitest';

/** Largest |a - b| over the largest |b| (the largest |a - b| when b is all zero); the lengths must agree. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  return norm > 0 ? worst / norm : worst;
}
