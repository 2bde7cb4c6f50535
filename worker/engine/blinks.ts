/**
 * Idle blinks: a natural blink schedule for the avatar's eye input (model-spec §1: eye_ratio
 * per frame, 0.25 when absent). Blinks come every 2-6 s at pseudo-random instants from a
 * seed (deterministic, so tests and renders can be reproduced), each a ~150 ms dip of the
 * eye value toward closed: closing is quicker than reopening, as in real blinks.
 */
import { DEFAULT_EYE } from '../model/poses.ts';

export interface BlinkOptions {
  /** Shortest gap between the end of one blink and the start of the next, ms. */
  minIntervalMs: number;
  /** Longest such gap, ms. */
  maxIntervalMs: number;
  /** Length of one blink (close and reopen), ms. */
  durationMs: number;
  /** Eye value between blinks. */
  rest: number;
  /** Eye value at the bottom of a blink. */
  closed: number;
}

export const DEFAULT_BLINKS: BlinkOptions = { minIntervalMs: 2000, maxIntervalMs: 6000, durationMs: 150, rest: DEFAULT_EYE, closed: 0.02 };

/** Share of a blink spent closing; the rest reopens. */
const CLOSE_SHARE = 0.4;
/** Blinks skipped one by one before a long clock jump restarts the schedule near `t`. */
const MAX_CATCH_UP = 64;

/** mulberry32: tiny, fast, good enough for timing jitter. */
function nextRandom(state: { s: number }): number {
  state.s = (state.s + 0x6d2b79f5) | 0;
  let t = state.s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const smooth = (x: number): number => x * x * (3 - 2 * x);

/** How closed the eye is at fraction `u` of a blink, 0 (open) .. 1 (shut). */
export function blinkShape(u: number): number {
  if (!(u > 0) || u >= 1) return 0;
  return u < CLOSE_SHARE ? smooth(u / CLOSE_SHARE) : 1 - smooth((u - CLOSE_SHARE) / (1 - CLOSE_SHARE));
}

function checkOptions(o: BlinkOptions): void {
  const finite = (name: keyof BlinkOptions, min: number): void => {
    if (!Number.isFinite(o[name]) || o[name] < min) throw new RangeError(`blinks.${name}: expected a finite number >= ${min}, found ${o[name]}`);
  };
  finite('minIntervalMs', 1);
  finite('maxIntervalMs', o.minIntervalMs);
  finite('durationMs', 1);
  finite('rest', 0);
  finite('closed', 0);
  if (o.closed > o.rest) throw new RangeError(`blinks.closed: expected <= rest ${o.rest}, found ${o.closed}`);
}

export class BlinkSchedule {
  private readonly rng: { s: number };
  private readonly o: BlinkOptions;
  /** Start of the current or next blink, ms on the caller's clock; set on the first query. */
  private start: number | null = null;

  constructor(seed: number, options: Partial<BlinkOptions> = {}) {
    if (!Number.isInteger(seed)) throw new RangeError(`blinks.seed: expected an integer, found ${seed}`);
    this.o = { ...DEFAULT_BLINKS, ...options };
    checkOptions(this.o);
    this.rng = { s: seed | 0 };
  }

  private gap(): number {
    return this.o.minIntervalMs + (this.o.maxIntervalMs - this.o.minIntervalMs) * nextRandom(this.rng);
  }

  /** Start times of upcoming blinks are only ever moved forward: query with a monotonic clock. */
  valueAt(tMs: number): number {
    if (!Number.isFinite(tMs)) throw new RangeError(`blinks.time: expected a finite number of ms, found ${tMs}`);
    if (this.start === null) this.start = tMs + this.gap();
    let steps = 0;
    while (tMs >= this.start + this.o.durationMs) {
      if (++steps > MAX_CATCH_UP) {
        // A suspended tab or a clock jump: no blinks were seen meanwhile, so start afresh.
        this.start = tMs + this.gap();
        break;
      }
      this.start += this.o.durationMs + this.gap();
    }
    const u = (tMs - this.start) / this.o.durationMs;
    return this.o.rest - (this.o.rest - this.o.closed) * blinkShape(u);
  }
}

/**
 * The eye value a frame at `tMs` should render with: the blink schedule's value when idle
 * blinks are on, else null (the renderer then uses the avatar's own eye track, 0.25 if none).
 */
export function blinkEye(schedule: BlinkSchedule, enabled: boolean, tMs: number): number | null {
  return enabled ? schedule.valueAt(tMs) : null;
}
