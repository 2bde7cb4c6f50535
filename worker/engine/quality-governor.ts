/**
 * Chooses exact or fast mode frame by frame (issue 14). Exact is the default and stays while it
 * holds the frame budget. Fast mode is not assumed to be faster: on some routes it is not (in
 * headless Chromium on SwiftShader its many small dispatches made the 64 px built-in render 2-5
 * times a second against exact's 8-9). So the governor measures what it switches to:
 * - exact: after `switchAfter` frames in a row over budget, a trial of fast mode starts;
 * - trial: the first `warmupFrames` fast frames are not timed (the first one after a switch
 *   marches in full; in Chromium on SwiftShader the next ones were still slow too), then
 *   `trialFrames` are. Fast mode is kept when their mean is at most
 *   `keepFastBelow` of exact's smoothed time; otherwise exact comes back and the next trial
 *   waits `retryAfter` exact frames, doubling after each failed trial up to `maxRetryAfter`
 *   (bounded re-probes: at most one trial per that many frames);
 * - fast: one frame in `probeEvery` is rendered exact to re-measure it. Exact comes back when its
 *   smoothed time is under `returnBelow` of the budget (it keeps up again), or when fast mode's
 *   smoothed time is above `leaveFastAbove` of exact's (fast mode no longer pays). Entering at
 *   keepFastBelow < 1 and leaving at leaveFastAbove >= 1 keeps the modes from flapping.
 * Frames of the other quality than asked (the WebGPU fast renderer still compiling) only update
 * that quality's estimate.
 */
export type QualityMode = 'auto' | 'exact' | 'fast';
export type Quality = 'exact' | 'fast';

/**
 * Why the running mode runs: 'set' (a fixed mode was chosen), 'keeps-up' (exact holds the
 * budget, or has not missed it long enough yet), 'trying' (fast mode is being timed),
 * 'fast-faster' (fast measured faster than exact), 'fast-slower' (exact misses the budget but
 * fast measured no faster), 'unavailable' (fast mode could not be built).
 */
export type QualityReason = 'set' | 'keeps-up' | 'trying' | 'fast-faster' | 'fast-slower' | 'unavailable';

/** What the popup shows about the mode (EngineStatus.qualityState). */
export interface QualityState {
  mode: QualityMode;
  quality: Quality;
  reason: QualityReason;
  /**
   * Wall time of a frame in each quality, ms; null until measured. For 'fast-faster' and
   * 'fast-slower' the two times the last decision compared (the trial's mean or fast mode's
   * smoothed time, against exact's smoothed time then); otherwise the smoothed times now.
   */
  exactMs: number | null;
  fastMs: number | null;
  budgetMs: number;
  /**
   * CPU path: the threads that render a fast frame (worker/engine/render-pool.ts; 1 without a
   * pool), and why the pool is not running where it was asked for (null when it runs or was not
   * asked for). Absent on WebGPU.
   */
  renderThreads?: number;
  /** CPU path: the render threads this renderer was built for (the setting cpuThreads resolved; 1 without a pool). Absent on WebGPU. */
  threadsAsked?: number;
  threadsProblem?: string | null;
  /** The last comparison of the pool and one thread (render-pool.ts EngineChooser): mean ms a fast frame; absent before one. */
  threadsMs?: { pool: number | null; one: number | null };
}

export interface GovernorOptions {
  /** Milliseconds a frame may take (1000 / the frame rate to hold). */
  budgetMs: number;
  switchAfter: number;
  probeEvery: number;
  returnBelow: number;
  warmupFrames: number;
  trialFrames: number;
  keepFastBelow: number;
  leaveFastAbove: number;
  retryAfter: number;
  maxRetryAfter: number;
}

export const GOVERNOR_DEFAULTS: Omit<GovernorOptions, 'budgetMs'> = {
  switchAfter: 5,
  probeEvery: 250,
  returnBelow: 0.8,
  warmupFrames: 3,
  trialFrames: 8,
  keepFastBelow: 0.9,
  leaveFastAbove: 1,
  retryAfter: 250,
  maxRetryAfter: 4000,
};

export function parseQualityMode(v: unknown): QualityMode | null {
  return v === 'auto' || v === 'exact' || v === 'fast' ? v : null;
}

/** Weight of a new frame in the smoothed times. */
const SMOOTHING = 0.3;

type State = 'exact' | 'trial' | 'fast';

export class QualityGovernor {
  private state: State;
  private why: QualityReason;
  private over = 0;
  private sinceProbe = 0;
  private exactMs: number | null = null;
  private fastMs: number | null = null;
  private warmup = 0;
  private trialSum = 0;
  private trialCount = 0;
  /** Exact frames left before fast mode may be tried again, and the wait after the next failed trial. */
  private cooldown = 0;
  private retry: number;
  private disabled = false;
  /** The times the last decision compared (what the popup shows with its reason). */
  private compared: { exactMs: number | null; fastMs: number | null } = { exactMs: null, fastMs: null };
  private readonly o: GovernorOptions;

  constructor(
    readonly mode: QualityMode,
    options: Partial<GovernorOptions> & { budgetMs: number },
  ) {
    if (parseQualityMode(mode) === null) throw new RangeError(`quality: expected "auto", "exact" or "fast", got ${JSON.stringify(mode)}`);
    this.o = { ...GOVERNOR_DEFAULTS, ...options };
    const o = this.o;
    if (!(o.budgetMs > 0 && Number.isFinite(o.budgetMs))) throw new RangeError(`budgetMs: expected a positive number, got ${o.budgetMs}`);
    const int = (k: keyof GovernorOptions, min: number): void => {
      if (!Number.isInteger(o[k]) || o[k] < min) throw new RangeError(`${k}: expected an integer >= ${min}, got ${o[k]}`);
    };
    int('switchAfter', 1);
    int('probeEvery', 2);
    int('warmupFrames', 0);
    int('trialFrames', 1);
    int('retryAfter', 1);
    int('maxRetryAfter', o.retryAfter);
    if (!(o.returnBelow > 0 && o.returnBelow <= 1)) throw new RangeError(`returnBelow: expected a number in (0, 1], got ${o.returnBelow}`);
    if (!(o.keepFastBelow > 0 && o.keepFastBelow <= 1)) throw new RangeError(`keepFastBelow: expected a number in (0, 1], got ${o.keepFastBelow}`);
    if (!(o.leaveFastAbove >= o.keepFastBelow && Number.isFinite(o.leaveFastAbove))) throw new RangeError(`leaveFastAbove: expected a finite number >= keepFastBelow (${o.keepFastBelow}), got ${o.leaveFastAbove}`);
    this.retry = o.retryAfter;
    this.state = mode === 'fast' ? 'fast' : 'exact';
    this.why = mode === 'auto' ? 'keeps-up' : 'set';
  }

  /** The mode that runs now (what the popup shows); a probe frame does not change it, a trial counts as fast. */
  get quality(): Quality {
    return this.state === 'exact' ? 'exact' : 'fast';
  }

  /** The running mode, why, and the measured times behind it. */
  get view(): QualityState {
    const decided = this.why === 'fast-faster' || this.why === 'fast-slower';
    const t = decided ? this.compared : { exactMs: this.exactMs, fastMs: this.fastMs };
    return { mode: this.mode, quality: this.quality, reason: this.why, ...t, budgetMs: this.o.budgetMs };
  }

  /** The quality to render the next frame with. */
  next(): Quality {
    if (this.mode !== 'auto' || this.state !== 'fast') return this.quality;
    return this.sinceProbe + 1 >= this.o.probeEvery ? 'exact' : 'fast';
  }

  /**
   * Forgets exact mode's measured time and any trial under way, back to exact: for when the
   * fast renderer has just been built. On WebGPU it compiles while exact frames run, and on a
   * software adapter the compile slows them (headless Chromium, 64 px built-in: exact measured
   * 209 ms a frame during the build against 70 ms without), which would make fast mode look
   * faster than it is.
   */
  restart(): void {
    if (this.mode !== 'auto' || this.disabled) return;
    this.state = 'exact';
    this.why = 'keeps-up';
    this.exactMs = null;
    this.over = 0;
    this.cooldown = 0;
  }

  /** Fast mode cannot run (its renderer failed to build): 'auto' stays exact from now on. */
  disableFast(): void {
    if (this.mode !== 'auto') return;
    this.disabled = true;
    this.state = 'exact';
    this.why = 'unavailable';
  }

  /** Reports how long a frame of quality `q` took to render. */
  record(q: Quality, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (q === 'exact') this.exactMs = smooth(this.exactMs, ms);
    if (this.mode !== 'auto') {
      if (q === 'fast') this.fastMs = smooth(this.fastMs, ms);
      return;
    }
    if (this.state === 'exact') this.recordExact(q, ms);
    else if (this.state === 'trial') this.recordTrial(q, ms);
    else this.recordFast(q, ms);
  }

  private recordExact(q: Quality, ms: number): void {
    if (q !== 'exact' || this.disabled) return;
    if (this.cooldown > 0) this.cooldown--;
    this.over = ms > this.o.budgetMs ? this.over + 1 : 0;
    if (this.why === 'fast-slower' && this.exactMs !== null && this.exactMs < this.o.returnBelow * this.o.budgetMs) this.why = 'keeps-up';
    if (this.over >= this.o.switchAfter && this.cooldown === 0) {
      this.state = 'trial';
      this.why = 'trying';
      this.warmup = this.o.warmupFrames;
      this.trialSum = 0;
      this.trialCount = 0;
    }
  }

  private recordTrial(q: Quality, ms: number): void {
    if (q !== 'fast') return;
    if (this.warmup > 0) {
      this.warmup--;
      return;
    }
    this.trialSum += ms;
    this.trialCount++;
    if (this.trialCount < this.o.trialFrames) return;
    this.fastMs = this.trialSum / this.trialCount;
    this.compared = { exactMs: this.exactMs, fastMs: this.fastMs };
    if (this.exactMs !== null && this.fastMs <= this.o.keepFastBelow * this.exactMs) {
      this.state = 'fast';
      this.why = 'fast-faster';
      this.sinceProbe = 0;
      this.retry = this.o.retryAfter;
    } else this.backToExact('fast-slower');
  }

  private recordFast(q: Quality, ms: number): void {
    if (q === 'fast') {
      this.fastMs = smooth(this.fastMs, ms);
      this.sinceProbe++;
      return;
    }
    // A probe: the decision is taken here, once per probeEvery frames.
    this.sinceProbe = 0;
    const exact = this.exactMs!;
    this.compared = { exactMs: exact, fastMs: this.fastMs };
    if (exact < this.o.returnBelow * this.o.budgetMs) {
      this.backToExact('keeps-up');
      this.retry = this.o.retryAfter;
      this.cooldown = 0;
    } else if (this.fastMs !== null && this.fastMs > this.o.leaveFastAbove * exact) this.backToExact('fast-slower');
  }

  private backToExact(why: QualityReason): void {
    this.state = 'exact';
    this.why = why;
    this.over = 0;
    if (why === 'fast-slower') {
      this.cooldown = this.retry;
      this.retry = Math.min(2 * this.retry, this.o.maxRetryAfter);
    }
  }
}

function smooth(prev: number | null, ms: number): number {
  return prev === null ? ms : (1 - SMOOTHING) * prev + SMOOTHING * ms;
}
