/**
 * The speech path of the engine: mic chunks (stamped with the page's AudioContext clock) ->
 * audio features -> landmark generator (worker/landmarks/stream.ts, pure JS, ~5 ms per
 * 40 ms frame on one core) -> the newest complete conditioning window. Frames are kept on
 * the audio clock, so each rendered frame knows which instant of the voice it shows and the
 * shim can measure the real pipeline latency from it.
 */
import type { LandmarkStats } from '../avatar/types.ts';
import { LANDMARK_FPS, type LandmarkGenerator } from '../landmarks/model.ts';
import { LandmarkStream } from '../landmarks/stream.ts';
import type { LandmarkSource, LandmarkWindow } from './interfaces.ts';
import type { Clock } from './pacer.ts';

/** No audio for this long (wall clock): the mic ended, was denied or the tap stopped: idle. */
const IDLE_AFTER_MS = 500;
/** A jump in chunk times larger than this (paused context, new capture) restarts the stream. */
const GAP_RESET_S = 0.25;
/**
 * Landmark frames kept, newest last: the play-out below walks through them at the speaking rate.
 * A busy or background page hands the mic over in bursts (a hidden tab's main thread runs about
 * once a second on a loaded machine); showing only the newest frame of each burst froze the
 * mouth between bursts, one shape a second whatever the render rate.
 */
const HISTORY_FRAMES = 64;
/** Play-out runs this much faster than real time, so the delay a burst adds drains again. */
const CATCH_UP = 1.1;
/** ... and never falls further behind the newest frame than this (frames, 1.6 s). */
const MAX_BEHIND_FRAMES = 40;
/** Generator look-ahead (2 frames) + mel window and resampler (about 25 ms). */
const STREAM_LATENCY_MS = 2 * (1000 / LANDMARK_FPS) + 25;

export interface SpeechSourceOptions {
  generator: LandmarkGenerator;
  /** Retargets a template-space generator onto the avatar (null: keep the generator's space). */
  stats: LandmarkStats | null;
  /** Frames in the renderer's conditioning window (odd). */
  window: number;
  /** numLandmarks * 3. */
  numbers: number;
  clock: Clock;
}

export class SpeechLandmarkSource implements LandmarkSource {
  readonly name = 'speech';
  readonly latencyMs: number;
  private stream: LandmarkStream | null = null;
  private t0 = 0;
  private expectedNext = -1;
  /** Frame i sits at slot i % HISTORY_FRAMES. */
  private readonly ring: Float32Array;
  private frames = 0;
  private newestIndex = -1;
  /** Index of the newest frame of the window shown (fractional: it advances with the wall clock), -1 before the first. */
  private play = -1;
  private playAt = 0;
  private lastPushAt = -Infinity;
  private rms = 0;
  private destroyed = false;
  /** Milliseconds spent in feature extraction + inference, for the stats (exponential average per chunk). */
  inferenceMs = 0;

  constructor(private readonly options: SpeechSourceOptions) {
    const { window, numbers } = options;
    if (!Number.isInteger(window) || window < 1 || window > 15 || window % 2 !== 1) throw new RangeError(`window: expected an odd integer in [1, 15], got ${window}`);
    if (numbers !== 204) throw new RangeError(`numbers: expected 204 (68 landmarks x 3), got ${numbers}`);
    this.ring = new Float32Array(HISTORY_FRAMES * numbers);
    this.latencyMs = STREAM_LATENCY_MS + Math.floor(window / 2) * (1000 / LANDMARK_FPS);
  }

  pushAudio(samples: Float32Array, sampleRate: number, timeSec: number): void {
    if (this.destroyed) return;
    if (!(samples instanceof Float32Array) || samples.length === 0 || samples.length > 48000) return;
    if (!Number.isFinite(sampleRate) || sampleRate < 8000 || sampleRate > 192000 || !Number.isFinite(timeSec)) return;
    this.lastPushAt = this.options.clock.now();
    this.updateLevel(samples);
    if (!this.stream || Math.abs(timeSec - this.expectedNext) > GAP_RESET_S) this.restart(timeSec);
    this.expectedNext = timeSec + samples.length / sampleRate;
    const started = this.options.clock.now();
    try {
      for (const f of this.stream!.push(samples, sampleRate)) this.adopt(f.index, f.landmarks);
    } catch {
      // A sample-rate change mid-stream or a corrupt chunk: start over at the next chunk.
      this.stream = null;
    }
    const spent = this.options.clock.now() - started;
    this.inferenceMs = this.inferenceMs * 0.9 + spent * 0.1;
  }

  private restart(timeSec: number): void {
    this.stream = new LandmarkStream(this.options.generator, { stats: this.options.stats });
    this.t0 = timeSec;
    this.frames = 0;
    this.newestIndex = -1;
    this.play = -1;
  }

  private adopt(index: number, landmarks: Float32Array): void {
    const n = this.options.numbers;
    if (landmarks.length !== n || !Number.isInteger(index) || index < 0) return;
    this.ring.set(landmarks, (index % HISTORY_FRAMES) * n);
    this.frames++;
    this.newestIndex = index;
  }

  latestWindow(): LandmarkWindow | null {
    const now = this.options.clock.now();
    if (this.frames === 0 || now - this.lastPushAt > IDLE_AFTER_MS) return null;
    const { window, numbers } = this.options;
    const newest = this.newestIndex;
    const oldest = Math.max(0, newest - Math.min(this.frames, HISTORY_FRAMES) + 1);
    // Play-out: the window walks through the frames at (a little over) the speaking rate instead
    // of jumping to the newest, so audio that arrived in a burst still shows every mouth shape.
    this.play = this.play < 0 ? newest : this.play + ((now - this.playAt) * LANDMARK_FPS * CATCH_UP) / 1000;
    this.playAt = now;
    this.play = Math.min(newest, Math.max(this.play, newest - MAX_BEHIND_FRAMES, oldest + window - 1));
    const last = Math.floor(this.play);
    const out = new Float32Array(window * numbers);
    for (let j = 0; j < window; j++) {
      // Until a whole window has arrived, the oldest frame we have stands in for the missing ones.
      const i = Math.max(oldest, last - window + 1 + j);
      out.set(this.ring.subarray((i % HISTORY_FRAMES) * numbers, (i % HISTORY_FRAMES + 1) * numbers), j * numbers);
    }
    const centre = last - Math.floor(window / 2);
    return { frames: out, audioTimeSec: this.t0 + Math.max(0, centre) / LANDMARK_FPS };
  }

  private updateLevel(samples: Float32Array): void {
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
    const now = Math.sqrt(sum / samples.length);
    this.rms = now > this.rms ? now : this.rms * 0.8 + now * 0.2;
  }

  level(): number {
    if (this.options.clock.now() - this.lastPushAt > IDLE_AFTER_MS) return 0;
    return Math.max(0, Math.min(1, this.rms));
  }

  destroy(): void {
    this.destroyed = true;
    this.stream = null;
  }
}
