/**
 * Log-mel features at 16 kHz, streaming.
 *
 * Choices (the generator is trained on exactly these): 25 ms periodic Hann window
 * (400 samples) zero-padded to a 512-point FFT (fft.js), 10 ms hop (160 samples), power
 * spectrum, 80 HTK-mel triangles from 20 Hz to 7600 Hz (inside the resampler's flat
 * passband), feature = ln(mel power + 1e-6); digital silence gives ln(1e-6) = -13.8.
 *
 * Frame i is centred on sample 160*i: it covers samples [160i - 200, 160i + 200). Samples
 * before the stream start are zeros, so frames may have negative indices (the generator asks
 * for some history before t = 0). A frame is emitted as soon as its last sample has arrived;
 * `finish(untilFrame)` pads with zeros. Frames depend only on their samples, so any chunking
 * gives bit-identical features.
 */
import FFT from 'fft.js';
import { ConfigError } from '../errors.ts';

export const MEL = {
  sampleRate: 16000,
  window: 400,
  hop: 160,
  fftSize: 512,
  bins: 80,
  fmin: 20,
  fmax: 7600,
  floor: 1e-6,
  /** frames per second */
  rate: 100,
} as const;

function hzToMel(f: number): number {
  return 2595 * Math.log10(1 + f / 700);
}

function melToHz(m: number): number {
  return 700 * (Math.pow(10, m / 2595) - 1);
}

/** [bins][fftSize/2 + 1] triangular filters (peak 1), stored sparsely as start + weights. */
interface MelFilter {
  start: number;
  weights: Float32Array;
}

function melFilterbank(): MelFilter[] {
  const nBins = MEL.fftSize / 2 + 1;
  const lo = hzToMel(MEL.fmin);
  const hi = hzToMel(MEL.fmax);
  const edges: number[] = [];
  for (let i = 0; i < MEL.bins + 2; i++) edges.push(melToHz(lo + ((hi - lo) * i) / (MEL.bins + 1)));
  const filters: MelFilter[] = [];
  for (let m = 0; m < MEL.bins; m++) {
    const [a, b, c] = [edges[m], edges[m + 1], edges[m + 2]];
    const w: number[] = [];
    let start = -1;
    for (let k = 0; k < nBins; k++) {
      const f = (k * MEL.sampleRate) / MEL.fftSize;
      const v = f <= a || f >= c ? 0 : f <= b ? (f - a) / (b - a) : (c - f) / (c - b);
      if (v > 0) {
        if (start < 0) start = k;
        w[k - start] = v;
      }
    }
    // Low filters may fall between FFT bins: give them the nearest bin rather than nothing.
    if (start < 0) {
      start = Math.round((b * MEL.fftSize) / MEL.sampleRate);
      w.push(1);
    }
    filters.push({ start, weights: Float32Array.from(w, (x) => x ?? 0) });
  }
  return filters;
}

let sharedTables: { hann: Float32Array; filters: MelFilter[]; fft: FFT } | null = null;

function tables(): { hann: Float32Array; filters: MelFilter[]; fft: FFT } {
  if (!sharedTables) {
    const hann = new Float32Array(MEL.window);
    for (let n = 0; n < MEL.window; n++) hann[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / MEL.window);
    sharedTables = { hann, filters: melFilterbank(), fft: new FFT(MEL.fftSize) };
  }
  return sharedTables;
}

/** Streaming log-mel extractor over 16 kHz samples. */
export class LogMelExtractor {
  /** index of the next frame to emit */
  private next: number;
  private buf = new Float32Array(8192);
  private bufStart = 0; // absolute sample index of buf[0]
  private bufLen = 0;
  private received = 0;
  private readonly frameIn = new Float64Array(MEL.fftSize);
  private readonly spectrum: number[];
  private readonly power = new Float64Array(MEL.fftSize / 2 + 1);

  /** @param startFrame first frame to emit (may be negative: history before the stream). */
  constructor(startFrame = 0) {
    if (!Number.isInteger(startFrame) || startFrame < -10_000 || startFrame > 0) {
      throw new ConfigError(`mel.startFrame: expected an integer in [-10000, 0], got ${startFrame}`);
    }
    this.next = startFrame;
    this.spectrum = tables().fft.createComplexArray() as number[];
  }

  /** Index of the next frame that will be emitted. */
  get nextFrame(): number {
    return this.next;
  }

  /** Appends 16 kHz samples; returns the completed frames, [n][80] row-major. */
  push(samples: Float32Array): Float32Array {
    this.append(samples);
    this.received += samples.length;
    return this.drain(Infinity);
  }

  /** Zero-pads the stream until every frame below `untilFrame` has been emitted. */
  finish(untilFrame: number): Float32Array {
    const needed = MEL.hop * (untilFrame - 1) + MEL.window / 2;
    const pad = Math.max(0, needed - this.received);
    if (pad > 64 * MEL.sampleRate) throw new ConfigError(`mel.finish: ${pad} samples of padding requested, expected at most 64 s`);
    this.append(new Float32Array(pad));
    this.received += pad;
    return this.drain(untilFrame);
  }

  private append(samples: Float32Array): void {
    // Keep samples from the next frame's first sample on.
    const keepFrom = MEL.hop * this.next - MEL.window / 2;
    const drop = Math.max(0, Math.min(this.bufLen, keepFrom - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    if (this.bufLen + samples.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, this.bufLen + samples.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
  }

  private drain(limit: number): Float32Array {
    // Frame i is complete when sample 160i + 199 has arrived.
    const ready = Math.floor((this.received - MEL.window / 2) / MEL.hop) + 1;
    const end = Math.min(ready, limit);
    const count = Math.max(0, end - this.next);
    const out = new Float32Array(count * MEL.bins);
    for (let f = 0; f < count; f++) this.frame(this.next + f, out, f * MEL.bins);
    this.next += count;
    return out;
  }

  private frame(i: number, out: Float32Array, at: number): void {
    const { hann, filters, fft } = tables();
    const x = this.frameIn;
    const first = MEL.hop * i - MEL.window / 2;
    for (let n = 0; n < MEL.window; n++) {
      const s = first + n - this.bufStart;
      x[n] = first + n < 0 ? 0 : this.buf[s] * hann[n];
    }
    const spec = this.spectrum;
    fft.realTransform(spec, x);
    const p = this.power;
    for (let k = 0; k <= MEL.fftSize / 2; k++) p[k] = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
    for (let m = 0; m < MEL.bins; m++) {
      const { start, weights } = filters[m];
      let e = 0;
      for (let k = 0; k < weights.length; k++) e += weights[k] * p[start + k];
      out[at + m] = Math.log(e + MEL.floor);
    }
  }
}

/** Offline log-mel of 16 kHz samples: frames [startFrame, endFrame). */
export function logMel(samples: Float32Array, startFrame: number, endFrame: number): Float32Array {
  const ex = new LogMelExtractor(startFrame);
  const a = ex.push(samples);
  const b = ex.finish(endFrame);
  const all = new Float32Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  // push() may already have produced frames past endFrame when the audio is longer.
  return all.subarray(0, Math.max(0, endFrame - startFrame) * MEL.bins);
}
