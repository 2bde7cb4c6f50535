/**
 * Lip sync: measures how far the face lags the voice and derives the mic delay from it.
 *
 * Each new frame from the engine names the audio instant A (mic AudioContext clock) whose
 * face it shows. When the shim writes it to the track at audio-clock time W, the face of A
 * appears W - A after A was captured: that lag is the delay the outgoing mic needs so the
 * voice of A leaves together with its face. A frame is then held until the next render, so
 * on average the face is half a render interval older than when it was written; the delay
 * adds that half to centre the error. The median over a few seconds rejects outliers (a GC
 * pause, one slow render) without chasing them, and the delay moves only in steps larger
 * than `STEP_MS` so the voice is not resampled constantly.
 */
import { median } from '../util/stats.ts';

export const SYNC = {
  /** Lags outside this range (seconds) are not a measurement: idle content, a restarted stream. */
  maxLagSec: 2,
  windowSec: 4,
  maxSamples: 256,
  /** Delay changes smaller than this are ignored. */
  stepMs: 20,
  /** Used until the first measurements arrive: feature look-ahead + window + one slow render. */
  initialDelayMs: 250,
  maxDelayMs: 1000,
  /**
   * Extra voice delay beyond what the shim observes. Calibrated at the far end with the
   * built-in avatar (tests/e2e/av-offset.test.ts, 8 runs at 9-25 renders/s): without it the
   * face followed the voice by +11 ms on average, but individual runs spread from -80 to
   * +80 ms (the measured lag wanders with the render load). Viewers tolerate a late voice far
   * better than a late face (ITU-R BT.1359: about 125 ms against 45 ms), so the delay aims
   * 40 ms towards the late voice: the middle of that window, where the spread stays inside it.
   */
  videoAfterWriteMs: 40,
} as const;

interface Sample {
  at: number;
  lag: number;
}

export class SyncMeter {
  private readonly samples: Sample[] = [];
  private lastFrameAt = -1;
  private readonly intervals: number[] = [];
  private applied: number = SYNC.initialDelayMs;

  /** A new frame showing audio instant `audioTimeSec`, written at audio-clock time `nowSec`. */
  push(audioTimeSec: number, nowSec: number): void {
    if (!Number.isFinite(audioTimeSec) || !Number.isFinite(nowSec)) return;
    const lag = nowSec - audioTimeSec;
    if (this.lastFrameAt >= 0) {
      const gap = nowSec - this.lastFrameAt;
      if (gap > 0 && gap < 2) {
        this.intervals.push(gap);
        if (this.intervals.length > 32) this.intervals.shift();
      }
    }
    this.lastFrameAt = nowSec;
    if (lag < 0 || lag > SYNC.maxLagSec) return;
    this.samples.push({ at: nowSec, lag });
    while (this.samples.length > SYNC.maxSamples || (this.samples.length > 0 && nowSec - this.samples[0].at > SYNC.windowSec)) this.samples.shift();
  }

  /** Median measured lag in ms, or null before any measurement. */
  lagMs(): number | null {
    if (this.samples.length === 0) return null;
    return median(this.samples.map((s) => s.lag)) * 1000;
  }

  /** Median time a rendered frame is held, ms (0 before two frames). */
  holdMs(): number {
    return this.intervals.length === 0 ? 0 : median(this.intervals) * 1000;
  }

  /**
   * The mic delay to apply now (ms, without the user's offset), or null when it should stay
   * as it is (no measurement yet, or the change is below the step).
   */
  nextDelayMs(): number | null {
    const lag = this.lagMs();
    if (lag === null) return null;
    const target = Math.max(0, Math.min(SYNC.maxDelayMs, lag + this.holdMs() / 2 + SYNC.videoAfterWriteMs));
    if (Math.abs(target - this.applied) < SYNC.stepMs) return null;
    this.applied = target;
    return target;
  }

  get appliedMs(): number {
    return this.applied;
  }
}
