/**
 * Which speech instant the avatar worker's next frame should show, so that a viewer sees the
 * mouth move with the voice.
 *
 * A frame started now is published one render later, and then stays on the far end's screen
 * until the next frame replaces it: for one frame interval. If it showed the instant playing at
 * publish, every mouth movement would reach the viewer on average half an interval late (at
 * 3 renders a second on the CPU reference: ~170 ms, beyond the +45 ms lip-sync window). So the
 * face is rendered for the instant in the middle of its time on screen:
 *
 *     lead = render time + frame interval / 2 - audio path   (medians of recent frames)
 *
 * ahead of the voice playing when the render starts. Both terms depend on render speed, which
 * varies with the machine, the backend and its load, so they are measured continuously.
 *
 * The speech timeline answers instants beyond what the audio track has been handed (it
 * projects where queued segments will start), so the lead needs no bound but a sanity cap.
 * When the cap binds, the residual lateness shows in `offsetMs()`, which the worker reports.
 */
import { ConfigError } from '../../worker/errors.ts';
import { median } from '../../worker/util/stats.ts';

export interface FaceScheduleOptions {
  /** The frame interval assumed before two frames have been published (ms; 1000 / max fps). */
  nominalIntervalMs: number;
  /** Largest lead allowed (ms). */
  maxLeadMs: number;
  /**
   * What the voice's path adds after the worker hands it out that the face's does not (ms):
   * Opus packs 20 ms frames and the far end's jitter buffer holds audio, while a decoded
   * video frame is shown at once. The face is rendered that much less ahead. Default 0.
   */
  audioPathMs?: number;
  /** Frames the medians look back over. */
  window?: number;
}

export class FaceSchedule {
  private readonly renders: number[] = [];
  private readonly intervals: number[] = [];
  private readonly offsets: number[] = [];
  private lastPublish: number | null = null;
  private readonly window: number;

  constructor(private readonly opts: FaceScheduleOptions) {
    if (!(opts.nominalIntervalMs > 0) || !Number.isFinite(opts.nominalIntervalMs)) throw new ConfigError(`nominalIntervalMs: expected a positive number of ms, got ${opts.nominalIntervalMs}`);
    if (!(opts.maxLeadMs >= 0) || !Number.isFinite(opts.maxLeadMs)) throw new ConfigError(`maxLeadMs: expected a non-negative number of ms, got ${opts.maxLeadMs}`);
    if (opts.audioPathMs !== undefined && (!(opts.audioPathMs >= 0) || !Number.isFinite(opts.audioPathMs))) throw new ConfigError(`audioPathMs: expected a non-negative number of ms, got ${opts.audioPathMs}`);
    this.window = opts.window ?? 50;
    if (!Number.isInteger(this.window) || this.window < 1) throw new ConfigError(`window: expected a positive integer, got ${this.window}`);
  }

  /** Median render time of recent frames (ms; 0 before the first). */
  renderMs(): number {
    return this.renders.length ? median(this.renders) : 0;
  }

  /** Median time a published frame stays on screen (ms; the nominal interval before two frames). */
  holdMs(): number {
    return this.intervals.length ? median(this.intervals) : this.opts.nominalIntervalMs;
  }

  /** How far ahead of the voice now playing the frame started now should be rendered (ms). */
  leadMs(): number {
    return Math.min(this.opts.maxLeadMs, Math.max(0, this.renderMs() + this.holdMs() / 2 - (this.opts.audioPathMs ?? 0)));
  }

  /**
   * One frame was published. Times in ms: `startedAt` and `publishedAt` on any one monotonic
   * clock; `shownMs` (the speech instant the frame depicts) and `playingAtPublishMs` (the
   * instant the voice was playing when it was published) on the audio output clock.
   */
  published(startedAt: number, publishedAt: number, shownMs: number, playingAtPublishMs: number): void {
    for (const [name, v] of [['startedAt', startedAt], ['publishedAt', publishedAt], ['shownMs', shownMs], ['playingAtPublishMs', playingAtPublishMs]] as const) {
      if (!Number.isFinite(v)) throw new ConfigError(`FaceSchedule.published: ${name} must be a finite number of ms, got ${v}`);
    }
    if (publishedAt < startedAt) throw new ConfigError(`FaceSchedule.published: publishedAt ${publishedAt} is before startedAt ${startedAt}`);
    push(this.renders, publishedAt - startedAt, this.window);
    if (this.lastPublish !== null && publishedAt > this.lastPublish) push(this.intervals, publishedAt - this.lastPublish, this.window);
    this.lastPublish = publishedAt;
    // While on screen the frame is seen against the voice from playingAtPublish to one hold later.
    // The voice reaches the viewer audioPathMs later than the face: that much less late.
    push(this.offsets, playingAtPublishMs + this.holdMs() / 2 - shownMs - (this.opts.audioPathMs ?? 0), this.window * 2);
  }

  /**
   * Median audio-to-face offset a viewer sees (ms): positive when the face shows speech older
   * than the voice it is heard with (mouth late), null before the first frame. The voice's
   * extra path is the audioPathMs allowance; the network's actual delays, which the worker
   * cannot observe, are not counted.
   */
  offsetMs(): number | null {
    return this.offsets.length ? median(this.offsets) : null;
  }
}

function push(list: number[], v: number, max: number): void {
  list.push(v);
  if (list.length > max) list.shift();
}
