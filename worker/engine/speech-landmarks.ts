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
  private readonly ring: Float32Array;
  private frames = 0;
  private newestIndex = -1;
  private lastPushAt = -Infinity;
  private rms = 0;
  private destroyed = false;
  /** Milliseconds spent in feature extraction + inference, for the stats (exponential average per chunk). */
  inferenceMs = 0;

  constructor(private readonly options: SpeechSourceOptions) {
    const { window, numbers } = options;
    if (!Number.isInteger(window) || window < 1 || window > 15 || window % 2 !== 1) throw new RangeError(`window: expected an odd integer in [1, 15], got ${window}`);
    if (numbers !== 204) throw new RangeError(`numbers: expected 204 (68 landmarks x 3), got ${numbers}`);
    this.ring = new Float32Array(window * numbers);
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
  }

  private adopt(index: number, landmarks: Float32Array): void {
    const n = this.options.numbers;
    if (landmarks.length !== n) return;
    this.ring.copyWithin(0, n);
    this.ring.set(landmarks, this.ring.length - n);
    this.frames++;
    this.newestIndex = index;
  }

  latestWindow(): LandmarkWindow | null {
    if (this.frames === 0 || this.options.clock.now() - this.lastPushAt > IDLE_AFTER_MS) return null;
    const { window, numbers } = this.options;
    const out = this.ring.slice();
    // Until a whole window has arrived, the oldest frame we have stands in for the missing ones.
    const have = Math.min(this.frames, window);
    const firstKept = (window - have) * numbers;
    for (let j = 0; j < window - have; j++) out.copyWithin(j * numbers, firstKept, firstKept + numbers);
    const centre = this.newestIndex - Math.floor(window / 2);
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
