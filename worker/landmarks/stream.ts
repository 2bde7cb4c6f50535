/**
 * The live API: push PCM chunks at any rate, receive landmark frames at 25 fps, each
 * stamped with its time from the first pushed sample.
 *
 * Latency: frame t (time 40t ms) is emitted once the audio up to 40(t+2) ms + 22.5 ms (mel
 * window) + the resampler's half filter (about 2.5 ms at 48 kHz) has been pushed: 2 frames
 * of look-ahead, as the spec's landmark window, plus 25 ms.
 *
 * Emitted frames equal `predictLandmarks` on the whole audio, bit for bit, whatever the
 * chunking (see tests/unit/landmarks-stream.test.ts).
 */
import { ConfigError } from '../errors.ts';
import type { LandmarkStats } from '../avatar/types.ts';
import { AudioFeatureStream, audioToMel, resampledLength } from '../audio/features.ts';
import { MEL } from '../audio/mel.ts';
import { StreamingGenerator } from './chain.ts';
import { LANDMARK_DIM, LANDMARK_FPS, SAMPLES_PER_FRAME, forwardGenerator, melFramesFor, melStart, type LandmarkGenerator } from './model.ts';
import { retargetFrames } from './retarget.ts';

export interface LandmarkFrame {
  /** frame index at 25 fps from the stream start */
  index: number;
  /** seconds from the first pushed sample */
  time: number;
  /** [68*3] */
  landmarks: Float32Array;
}

/** Landmark frames for `n16k` samples of 16 kHz audio: one per started 40 ms. */
export function framesForSamples(n16k: number): number {
  return Math.ceil(n16k / SAMPLES_PER_FRAME);
}

export interface LandmarkStreamOptions {
  /** retargets a template-space generator to this avatar (ignored for avatar-space ones) */
  stats?: LandmarkStats | null;
}

export class LandmarkStream {
  private readonly audio: AudioFeatureStream;
  private readonly chain: StreamingGenerator;
  private emitted = 0;
  private finished = false;

  constructor(
    readonly generator: LandmarkGenerator,
    private readonly options: LandmarkStreamOptions = {},
  ) {
    this.audio = new AudioFeatureStream(melStart(generator), generator.featureNorm);
    this.chain = new StreamingGenerator(generator);
  }

  push(pcm: Float32Array, sampleRate: number): LandmarkFrame[] {
    if (this.finished) throw new ConfigError('landmarks.push: the stream is finished');
    return this.frames(this.audio.push(pcm, sampleRate), Infinity);
  }

  /** Ends the stream: emits the frames still waiting for look-ahead (silence after the end). */
  finish(): LandmarkFrame[] {
    if (this.finished) return [];
    this.finished = true;
    const g = this.generator;
    const mel = this.audio.finish((n16k) => melStart(g) + melFramesFor(g, framesForSamples(n16k)));
    return this.frames(mel, framesForSamples(this.audio.resampledLength));
  }

  private frames(mel: Float32Array, limit: number): LandmarkFrame[] {
    const r = this.chain.push(mel, mel.length / MEL.bins);
    const n = Math.max(0, Math.min(r.frames, limit - this.emitted));
    const data = retargetFrames(this.generator, r.landmarks.subarray(0, n * LANDMARK_DIM), this.options.stats ?? null);
    const out: LandmarkFrame[] = [];
    for (let i = 0; i < n; i++) {
      const index = this.emitted + i;
      out.push({ index, time: index / LANDMARK_FPS, landmarks: data.slice(i * LANDMARK_DIM, (i + 1) * LANDMARK_DIM) });
    }
    this.emitted += n;
    return out;
  }
}

/**
 * Offline prediction: the whole track for `pcm` at `sampleRate`, [T][204] with
 * T = ceil(duration * 25).
 */
export function predictLandmarks(g: LandmarkGenerator, pcm: Float32Array, sampleRate: number, stats: LandmarkStats | null = null): { frames: number; landmarks: Float32Array } {
  const frames = framesForSamples(resampledLength(pcm.length, sampleRate));
  const start = melStart(g);
  const nMel = melFramesFor(g, frames);
  const mel = audioToMel(pcm, sampleRate, start, start + nMel, g.featureNorm);
  const r = forwardGenerator(g, mel, nMel);
  return { frames: r.frames, landmarks: retargetFrames(g, r.landmarks, stats) };
}
