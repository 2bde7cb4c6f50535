/**
 * Chooses exact or fast mode frame by frame (issue 14): exact is the default and stays while it
 * holds the frame budget; after `switchAfter` frames in a row over budget the renderer goes
 * fast. While fast, one frame in `probeEvery` is rendered exact to re-measure it (the machine
 * may have been busy only for a while), and exact comes back once its smoothed time is under
 * `returnBelow` of the budget, so the two modes do not flap around the limit.
 */
export type QualityMode = 'auto' | 'exact' | 'fast';
export type Quality = 'exact' | 'fast';

export interface GovernorOptions {
  /** Milliseconds a frame may take (1000 / the frame rate to hold). */
  budgetMs: number;
  switchAfter: number;
  probeEvery: number;
  returnBelow: number;
}

export const GOVERNOR_DEFAULTS: Omit<GovernorOptions, 'budgetMs'> = { switchAfter: 5, probeEvery: 250, returnBelow: 0.8 };

export function parseQualityMode(v: unknown): QualityMode | null {
  return v === 'auto' || v === 'exact' || v === 'fast' ? v : null;
}

export class QualityGovernor {
  private current: Quality;
  private over = 0;
  private sinceProbe = 0;
  private exactMs: number | null = null;
  private readonly o: GovernorOptions;

  constructor(
    readonly mode: QualityMode,
    options: Partial<GovernorOptions> & { budgetMs: number },
  ) {
    if (parseQualityMode(mode) === null) throw new RangeError(`quality: expected "auto", "exact" or "fast", got ${JSON.stringify(mode)}`);
    this.o = { ...GOVERNOR_DEFAULTS, ...options };
    if (!(this.o.budgetMs > 0 && Number.isFinite(this.o.budgetMs))) throw new RangeError(`budgetMs: expected a positive number, got ${this.o.budgetMs}`);
    if (!Number.isInteger(this.o.switchAfter) || this.o.switchAfter < 1) throw new RangeError(`switchAfter: expected a positive integer, got ${this.o.switchAfter}`);
    if (!Number.isInteger(this.o.probeEvery) || this.o.probeEvery < 2) throw new RangeError(`probeEvery: expected an integer >= 2, got ${this.o.probeEvery}`);
    if (!(this.o.returnBelow > 0 && this.o.returnBelow <= 1)) throw new RangeError(`returnBelow: expected a number in (0, 1], got ${this.o.returnBelow}`);
    this.current = mode === 'fast' ? 'fast' : 'exact';
  }

  /** The mode that runs now (what the popup shows); a probe frame does not change it. */
  get quality(): Quality {
    return this.current;
  }

  /** The quality to render the next frame with. */
  next(): Quality {
    if (this.mode !== 'auto' || this.current === 'exact') return this.current;
    return this.sinceProbe + 1 >= this.o.probeEvery ? 'exact' : 'fast';
  }

  /** Reports how long a frame of quality `q` took to render. */
  record(q: Quality, ms: number): void {
    if (this.mode !== 'auto' || !Number.isFinite(ms) || ms < 0) return;
    if (q === 'exact') this.exactMs = this.exactMs === null ? ms : 0.7 * this.exactMs + 0.3 * ms;
    if (this.current === 'exact') {
      this.over = ms > this.o.budgetMs ? this.over + 1 : 0;
      if (this.over >= this.o.switchAfter) {
        this.current = 'fast';
        this.sinceProbe = 0;
      }
      return;
    }
    if (q === 'fast') {
      this.sinceProbe++;
      return;
    }
    this.sinceProbe = 0;
    if (this.exactMs !== null && this.exactMs < this.o.returnBelow * this.o.budgetMs) {
      this.current = 'exact';
      this.over = 0;
    }
  }
}
