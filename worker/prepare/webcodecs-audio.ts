/**
 * A demuxed audio track decoded by WebCodecs' AudioDecoder (a page or a worker), mixed to
 * mono, placed on the media timeline by each packet's timestamp (so the sound stays aligned
 * with the pictures whatever the codec's priming), and resampled to `outRate`.
 */
import { FormatError } from '../errors.ts';
import { resample } from '../audio/resample.ts';
import type { AudioTrack } from './demux.ts';
import { withTimeout } from './webcodecs-video.ts';

/** Two hours of sound at 48 kHz. */
const MAX_SAMPLES = 2 * 3600 * 48_000;
const QUEUE = 16;

/** Null when this browser's WebCodecs cannot decode the track (the caller falls back). */
export async function decodeAudioTrack(track: AudioTrack, outRate: number, timeoutMs = 20_000): Promise<Float32Array | null> {
  if (typeof AudioDecoder === 'undefined') return null;
  const config: AudioDecoderConfig = { codec: track.codec, sampleRate: track.sampleRate, numberOfChannels: track.channels };
  if (track.description) config.description = track.description;
  const support = await AudioDecoder.isConfigSupported(config).catch(() => ({ supported: false }));
  if (!support.supported) return null;

  const pieces: { at: number; mono: Float32Array }[] = [];
  let rate = 0;
  let failure: Error | null = null;
  let total = 0;
  const decoder = new AudioDecoder({
    output: (d) => {
      try {
        rate ||= d.sampleRate;
        const n = d.numberOfFrames;
        const mono = new Float32Array(n);
        const plane = new Float32Array(n);
        for (let c = 0; c < d.numberOfChannels; c++) {
          d.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
          for (let i = 0; i < n; i++) mono[i] += plane[i] / d.numberOfChannels;
        }
        const at = Math.round((d.timestamp * rate) / 1e6);
        total = Math.max(total, at + n);
        if (total > MAX_SAMPLES) throw FormatError.input('audio', `over ${MAX_SAMPLES / 48_000 / 3600} hours of sound`);
        pieces.push({ at, mono });
      } catch (e) {
        failure ??= e as Error;
      } finally {
        d.close();
      }
    },
    error: (e) => {
      failure ??= e;
    },
  });
  try {
    decoder.configure(config);
    for (let i = 0; i < track.samples.length && !failure; i++) {
      const s = track.samples[i];
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: s.timestampUs, duration: s.durationUs, data: s.data }));
      if (decoder.decodeQueueSize >= QUEUE) {
        await withTimeout(new Promise((r) => decoder.addEventListener('dequeue', r, { once: true })), timeoutMs, `on audio packet ${i}`);
      }
    }
    if (!failure) await withTimeout(decoder.flush(), timeoutMs, 'to finish the sound track').catch((e) => (failure ??= e as Error));
  } catch (e) {
    failure ??= e as Error;
  } finally {
    if (decoder.state !== 'closed') decoder.close();
  }
  if (failure) throw failure instanceof FormatError ? failure : FormatError.input('audio', `the ${track.codec} sound track cannot be decoded: ${(failure as Error).message}`, failure);
  if (!rate || total === 0) return null;
  // Priming before time zero is cut; gaps stay silent.
  const mono = new Float32Array(total);
  for (const p of pieces) {
    const from = Math.max(0, -p.at);
    mono.set(p.mono.subarray(from), p.at + from);
  }
  return rate === outRate ? mono : resample(mono, rate, outRate);
}
