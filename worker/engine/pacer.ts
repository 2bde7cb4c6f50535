/**
 * Output frame clock. Ticks on an ideal schedule t0 + k * interval driven by worker timers
 * (requestAnimationFrame stops in background tabs; dedicated-worker timers do not). A late
 * timer fires one tick and skips the missed ones rather than bursting, so the far end never
 * sees frames faster than the advertised rate. Timestamps follow the schedule, so they are
 * strictly monotonic and evenly spaced even across rate changes.
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface Timers {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface Tick {
  /** Ticks since start, counting skipped ones. */
  index: number;
  timestampUs: number;
  /** How many scheduled ticks were skipped because the timer fired late. */
  skipped: number;
}

export class Pacer {
  private intervalMs: number;
  private t0 = 0;
  private baseUs = 0;
  private lastIndex = -1;
  private indexOffset = 0;
  private handle: unknown = null;
  private running = false;

  constructor(
    frameRate: number,
    private readonly onTick: (tick: Tick) => void,
    private readonly clock: Clock,
    private readonly timers: Timers,
  ) {
    this.intervalMs = Pacer.checkRate(frameRate);
  }

  private static checkRate(frameRate: number): number {
    if (!Number.isFinite(frameRate) || frameRate < 1 || frameRate > 120) {
      throw new RangeError(`frameRate: expected a number in [1, 120], got ${frameRate}`);
    }
    return 1000 / frameRate;
  }

  get frameRate(): number {
    return 1000 / this.intervalMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.clock.now();
    this.baseUs = Math.round(this.t0 * 1000);
    this.lastIndex = -1;
    this.indexOffset = 0;
    this.fire();
  }

  /** Changes the rate from the next tick on; timestamps continue from the last one. */
  setFrameRate(frameRate: number): void {
    const interval = Pacer.checkRate(frameRate);
    if (interval === this.intervalMs) return;
    if (this.running && this.lastIndex >= 0) {
      const lastUs = this.timestampOf(this.lastIndex);
      this.indexOffset += this.lastIndex + 1;
      this.t0 = this.t0 + (this.lastIndex + 1) * this.intervalMs;
      this.baseUs = lastUs + Math.round(this.intervalMs * 1000);
      this.lastIndex = -1;
    }
    this.intervalMs = interval;
    if (this.running) this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  private timestampOf(index: number): number {
    return this.baseUs + Math.round(index * this.intervalMs * 1000);
  }

  private fire(): void {
    this.handle = null;
    if (!this.running) return;
    const now = this.clock.now();
    const due = Math.floor((now - this.t0) / this.intervalMs + 1e-6);
    if (due > this.lastIndex) {
      const skipped = this.lastIndex < 0 ? due : due - this.lastIndex - 1;
      this.lastIndex = due;
      this.onTick({ index: this.indexOffset + due, timestampUs: this.timestampOf(due), skipped });
    }
    if (this.running) this.schedule();
  }

  private schedule(): void {
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    const next = this.t0 + (this.lastIndex + 1) * this.intervalMs;
    this.handle = this.timers.setTimeout(() => this.fire(), Math.max(0, next - this.clock.now()));
  }
}

/** Counts events in a sliding window to report a rate (frames per second). */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly windowMs = 2000,
  ) {}

  mark(): void {
    const now = this.clock.now();
    this.times.push(now);
    this.trim(now);
  }

  rate(): number {
    const now = this.clock.now();
    this.trim(now);
    if (this.times.length < 2) return 0;
    const span = now - this.times[0];
    return span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
  }

  private trim(now: number): void {
    // Bounded: at most one entry per mark within the window, and marks come at <= 120 Hz.
    while (this.times.length > 0 && (now - this.times[0] > this.windowMs || this.times.length > 1024)) this.times.shift();
  }
}
