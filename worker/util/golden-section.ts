/** Golden-section search for the minimum of a unimodal function on [lo, hi]. */

export interface GoldenBracket {
  /** The final bracket. */
  lo: number;
  hi: number;
  /** The better of the last two interior points, and its value. */
  best: number;
  bestValue: number;
}

/** Narrows [lo, hi] by `steps` golden-ratio contractions, one evaluation of f each (two to start). */
export function goldenSection(f: (x: number) => number, lo: number, hi: number, steps: number): GoldenBracket {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = hi - g * (hi - lo);
  let d = lo + g * (hi - lo);
  let fc = f(c);
  let fd = f(d);
  for (let s = 0; s < steps; s++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - g * (hi - lo);
      fc = f(c);
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + g * (hi - lo);
      fd = f(d);
    }
  }
  return fc < fd ? { lo, hi, best: c, bestValue: fc } : { lo, hi, best: d, bestValue: fd };
}
