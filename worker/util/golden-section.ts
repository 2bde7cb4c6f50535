/** Golden-section search for the minimum of a unimodal function on [lo, hi]. */

export interface GoldenBracket {
  /** The final bracket. */
  lo: number;
  hi: number;
  /** The better of the last two interior points, and its value. */
  best: number;
  bestValue: number;
}

/** The search as a generator: yields each point to evaluate and takes its value back, so a
 * synchronous and an asynchronous objective share one implementation. */
function* goldenSteps(lo: number, hi: number, steps: number): Generator<number, GoldenBracket, number> {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = hi - g * (hi - lo);
  let d = lo + g * (hi - lo);
  let fc = yield c;
  let fd = yield d;
  for (let s = 0; s < steps; s++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - g * (hi - lo);
      fc = yield c;
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + g * (hi - lo);
      fd = yield d;
    }
  }
  return fc < fd ? { lo, hi, best: c, bestValue: fc } : { lo, hi, best: d, bestValue: fd };
}

/** Narrows [lo, hi] by `steps` golden-ratio contractions, one evaluation of f each (two to start). */
export function goldenSection(f: (x: number) => number, lo: number, hi: number, steps: number): GoldenBracket {
  const it = goldenSteps(lo, hi, steps);
  let r = it.next();
  while (!r.done) r = it.next(f(r.value));
  return r.value;
}

/** `goldenSection` for an objective that returns a promise (one that yields to the event loop, so
 * that a long search can be cancelled from another task). */
export async function goldenSectionAsync(f: (x: number) => Promise<number>, lo: number, hi: number, steps: number): Promise<GoldenBracket> {
  const it = goldenSteps(lo, hi, steps);
  let r = it.next();
  while (!r.done) r = it.next(await f(r.value));
  return r.value;
}
