/**
 * Internal render size of the CPU fallback (issue 14, "no GPU at all"): a face that renders
 * once a second is a still image to the far end, whatever its resolution. Renders cost in
 * proportion to their pixels, so when renders at the current side stay over `budgetMs` (fewer
 * than the renders a second that show speech as distinct mouth shapes), the renderer steps to
 * the next smaller side and the session scales the picture up; it steps back up once the
 * smaller side's smoothed time, scaled by the pixel ratio, predicts the larger side would fit
 * comfortably (`returnBelow` of the budget), so the two sides do not flap around the limit.
 */
export interface LadderOptions {
  /** Milliseconds a render may take (1000 / the renders a second to hold). */
  budgetMs: number;
  /** Renders in a row over budget before stepping down. */
  switchAfter: number;
  /** Step up when the predicted larger render is under this fraction of the budget. */
  returnBelow: number;
  /** Renders at a side before stepping up from it is considered. */
  settle: number;
}

export const LADDER_DEFAULTS: Omit<LadderOptions, 'budgetMs'> = { switchAfter: 3, returnBelow: 0.6, settle: 10 };

export class ResolutionLadder {
  private current = 0;
  private over = 0;
  private count = 0;
  private smoothMs: number | null = null;
  private readonly o: LadderOptions;

  /** `pixels`: the pixel count of each rung, largest first. */
  constructor(
    readonly pixels: readonly number[],
    options: Partial<LadderOptions> & { budgetMs: number },
  ) {
    if (pixels.length === 0) throw new RangeError('pixels: expected at least one rung');
    for (let i = 0; i < pixels.length; i++) {
      if (!(Number.isInteger(pixels[i]) && pixels[i] > 0)) throw new RangeError(`pixels[${i}]: expected a positive integer, got ${pixels[i]}`);
      if (i > 0 && !(pixels[i] < pixels[i - 1])) throw new RangeError(`pixels: expected strictly decreasing counts, got ${pixels.join(', ')}`);
    }
    this.o = { ...LADDER_DEFAULTS, ...options };
    if (!(this.o.budgetMs > 0 && Number.isFinite(this.o.budgetMs))) throw new RangeError(`budgetMs: expected a positive number, got ${this.o.budgetMs}`);
    if (!Number.isInteger(this.o.switchAfter) || this.o.switchAfter < 1) throw new RangeError(`switchAfter: expected a positive integer, got ${this.o.switchAfter}`);
    if (!Number.isInteger(this.o.settle) || this.o.settle < 1) throw new RangeError(`settle: expected a positive integer, got ${this.o.settle}`);
    if (!(this.o.returnBelow > 0 && this.o.returnBelow <= 1)) throw new RangeError(`returnBelow: expected a number in (0, 1], got ${this.o.returnBelow}`);
  }

  /** The rung to render the next frame at (0: the largest). */
  get rung(): number {
    return this.current;
  }

  /** Reports how long a render at the current rung took. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.count++;
    this.smoothMs = this.smoothMs === null ? ms : 0.7 * this.smoothMs + 0.3 * ms;
    this.over = ms > this.o.budgetMs ? this.over + 1 : 0;
    if (this.over >= this.o.switchAfter && this.current + 1 < this.pixels.length) return this.step(this.current + 1);
    if (this.current > 0 && this.count >= this.o.settle) {
      const predicted = this.smoothMs * (this.pixels[this.current - 1] / this.pixels[this.current]);
      if (predicted < this.o.returnBelow * this.o.budgetMs) this.step(this.current - 1);
    }
  }

  private step(to: number): void {
    this.current = to;
    this.over = 0;
    this.count = 0;
    this.smoothMs = null;
  }
}
