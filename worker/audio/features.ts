/**
 * The audio front end as one streaming object: PCM at any rate -> 16 kHz -> log-mel.
 * `AudioFeatureStream` fixes the input rate on the first push; `audioToMel` is the offline
 * form (the same object fed once), so both give identical features.
 */
import { ConfigError } from '../errors.ts';
import { MEL, LogMelExtractor } from './mel.ts';
import { StreamingResampler, checkSampleRate } from './resample.ts';
import { makeNormaliser, type FeatureNorm, type OnlineMvn } from './online-norm.ts';

/** Bound on one pushed chunk (10 s at 384 kHz) so a caller cannot force a huge allocation. */
export const MAX_CHUNK = 3_840_000;

function concat(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class AudioFeatureStream {
  private resampler: StreamingResampler | null = null;
  private readonly mel: LogMelExtractor;
  private samples16k = 0;
  private finished = false;
  private readonly norm: OnlineMvn | null;

  /**
   * @param startFrame first mel frame to emit (negative frames cover silence before t = 0)
   * @param norm the generator's feature normalisation (none: raw log-mel)
   */
  constructor(startFrame = 0, norm?: FeatureNorm) {
    this.mel = new LogMelExtractor(startFrame);
    this.norm = makeNormaliser(norm);
  }

  private out(mel: Float32Array): Float32Array {
    return this.norm && mel.length > 0 ? this.norm.push(mel) : mel;
  }

  get sampleRate(): number | null {
    return this.resampler?.inRate ?? null;
  }

  /** 16 kHz samples produced so far. */
  get resampledLength(): number {
    return this.samples16k;
  }

  get nextFrame(): number {
    return this.mel.nextFrame;
  }

  /** Returns the mel frames ([n][80]) completed by this chunk. */
  push(pcm: Float32Array, sampleRate: number): Float32Array {
    if (this.finished) throw new ConfigError('audio.push: the stream is finished');
    if (!(pcm instanceof Float32Array)) throw new ConfigError('audio.pcm: expected a Float32Array');
    if (pcm.length > MAX_CHUNK) throw new ConfigError(`audio.pcm: expected at most ${MAX_CHUNK} samples per chunk, got ${pcm.length}`);
    checkSampleRate('audio.sampleRate', sampleRate);
    if (!this.resampler) this.resampler = new StreamingResampler(sampleRate, MEL.sampleRate);
    else if (this.resampler.inRate !== sampleRate) {
      throw new ConfigError(`audio.sampleRate: expected ${this.resampler.inRate} Hz (the stream's rate), got ${sampleRate}`);
    }
    for (let i = 0; i < pcm.length; i++) {
      if (!Number.isFinite(pcm[i])) throw new ConfigError(`audio.pcm[${i}]: expected a finite sample, got ${pcm[i]}`);
    }
    const s = this.resampler.push(pcm);
    this.samples16k += s.length;
    return this.out(this.mel.push(s));
  }

  /**
   * Ends the input; zero-pads until every frame below `untilFrame` is out. A function is
   * called with the final 16 kHz length, known only once the resampler is flushed.
   */
  finish(untilFrame: number | ((resampled: number) => number) | null): Float32Array {
    if (this.finished) return new Float32Array(0);
    this.finished = true;
    let out: Float32Array = new Float32Array(0);
    if (this.resampler) {
      const s = this.resampler.finish();
      this.samples16k += s.length;
      out = this.out(this.mel.push(s));
    }
    const until = typeof untilFrame === 'function' ? untilFrame(this.samples16k) : untilFrame;
    if (until !== null) out = concat(out, this.out(this.mel.finish(until)));
    return out;
  }
}

/** Offline features: mel frames [startFrame, endFrame) of `pcm` at `sampleRate`. */
export function audioToMel(pcm: Float32Array, sampleRate: number, startFrame: number, endFrame: number, norm?: FeatureNorm): Float32Array {
  const fs = new AudioFeatureStream(startFrame, norm);
  let all: Float32Array = new Float32Array(0);
  for (let at = 0; at < pcm.length; at += MAX_CHUNK) all = concat(all, fs.push(pcm.subarray(at, at + MAX_CHUNK), sampleRate));
  if (pcm.length === 0) checkSampleRate('audio.sampleRate', sampleRate);
  all = concat(all, fs.finish(endFrame));
  return all.subarray(0, Math.max(0, endFrame - startFrame) * MEL.bins);
}

/** 16 kHz length of `n` samples at `sampleRate` (what the resampler produces). */
export function resampledLength(n: number, sampleRate: number): number {
  return Math.ceil((n * MEL.sampleRate) / sampleRate);
}
