/**
 * Streaming rational resampler: polyphase windowed-sinc (Kaiser window).
 *
 * Filter: passband edge 0.875 x the lower Nyquist, stopband from the lower Nyquist on, at
 * least 80 dB of stopband attenuation (Kaiser beta 7.857, length from Kaiser's formula).
 * So at 48 kHz -> 16 kHz everything above 8 kHz, which would alias, is cut by >= 80 dB and
 * the band below 7 kHz passes flat. Each polyphase branch is normalised to unit DC gain.
 *
 * Output sample n sits at input time n * inRate / outRate (no group delay): the filter is
 * centred, so it needs `halfTaps` input samples of look-ahead (2.5 ms at 48 kHz). Samples
 * before the first pushed one are zeros. Each output sample is computed from the same
 * input values in the same order however the input was chunked, so streaming and offline
 * results are bit-identical.
 */
import { ConfigError } from '../errors.ts';

export const RESAMPLER_DESIGN = {
  stopbandDb: 80,
  /** passband edge / lower Nyquist */
  passband: 0.875,
  minRate: 4000,
  maxRate: 384_000,
  /** bound on the polyphase table (phases x taps) */
  maxTableSize: 1 << 22,
} as const;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for x < 50). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export interface ResamplerFilter {
  /** output samples per `down` input samples */
  up: number;
  down: number;
  /** taps per phase = 2 * halfTaps; input samples j in [q - halfTaps + 1, q + halfTaps] */
  halfTaps: number;
  /** [up][2*halfTaps], tap i applies to input q - halfTaps + 1 + i */
  table: Float32Array;
}

export function checkSampleRate(name: string, r: number): void {
  if (!Number.isInteger(r) || r < RESAMPLER_DESIGN.minRate || r > RESAMPLER_DESIGN.maxRate) {
    throw new ConfigError(`${name}: expected an integer in [${RESAMPLER_DESIGN.minRate}, ${RESAMPLER_DESIGN.maxRate}] Hz, got ${r}`);
  }
}

export function designResampler(inRate: number, outRate: number): ResamplerFilter {
  checkSampleRate('resampler.inRate', inRate);
  checkSampleRate('resampler.outRate', outRate);
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  const down = inRate / g;
  const nyq = Math.min(inRate, outRate) / 2;
  const transition = (1 - RESAMPLER_DESIGN.passband) * nyq;
  const cutoff = nyq - transition / 2;
  const A = RESAMPLER_DESIGN.stopbandDb;
  const beta = 0.1102 * (A - 8.7);
  // Kaiser's length estimate, in input samples.
  const length = (A - 8) / (2.285 * 2 * Math.PI * (transition / inRate));
  const halfTaps = Math.ceil(length / 2) + 1;
  const taps = 2 * halfTaps;
  if (up * taps > RESAMPLER_DESIGN.maxTableSize) {
    throw new ConfigError(`resampler: ${inRate} -> ${outRate} Hz needs ${up * taps} filter taps, above the bound ${RESAMPLER_DESIGN.maxTableSize}`);
  }
  const table = new Float32Array(up * taps);
  const fc = cutoff / inRate; // cycles per input sample
  const i0b = besselI0(beta);
  for (let r = 0; r < up; r++) {
    let sum = 0;
    const row = new Float64Array(taps);
    for (let i = 0; i < taps; i++) {
      const k = i - halfTaps + 1; // input offset from q
      const t = r / up - k; // distance (input samples) from the output instant to the input
      const x = t / halfTaps;
      const w = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0b;
      const s = t === 0 ? 1 : Math.sin(2 * Math.PI * fc * t) / (2 * Math.PI * fc * t);
      row[i] = s * w;
      sum += row[i];
    }
    for (let i = 0; i < taps; i++) table[r * taps + i] = row[i] / sum;
  }
  return { up, down, halfTaps, table };
}

/** Pushes input chunks, returns whatever output samples became computable. */
export class StreamingResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly filter: ResamplerFilter | null;
  /** buffered input; buf[0] is absolute input index `bufStart` */
  private buf = new Float32Array(4096);
  private bufLen = 0;
  private bufStart = 0;
  private received = 0;
  private produced = 0;
  private finished = false;

  constructor(inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    checkSampleRate('resampler.inRate', inRate);
    checkSampleRate('resampler.outRate', outRate);
    this.filter = inRate === outRate ? null : designResampler(inRate, outRate);
  }

  /** Input samples of look-ahead an output sample needs. */
  get lookAhead(): number {
    return this.filter ? this.filter.halfTaps : 0;
  }

  push(chunk: Float32Array): Float32Array {
    if (this.finished) throw new ConfigError('resampler: push() after finish()');
    if (!this.filter) {
      this.received += chunk.length;
      this.produced += chunk.length;
      return chunk.slice();
    }
    this.append(chunk);
    this.received += chunk.length;
    return this.drain(this.received);
  }

  /** Ends the stream: returns the remaining outputs up to ceil(inputLength * out / in). */
  finish(): Float32Array {
    if (this.finished) return new Float32Array(0);
    this.finished = true;
    if (!this.filter) return new Float32Array(0);
    const total = this.received;
    this.append(new Float32Array(this.filter.halfTaps + 1));
    const want = Math.ceil((total * this.filter.up) / this.filter.down);
    return this.drain(this.received + this.filter.halfTaps + 1, want);
  }

  private append(chunk: Float32Array): void {
    const f = this.filter!;
    // Drop what no future output can reach: inputs below q(produced) - halfTaps + 1.
    const firstNeeded = Math.floor((this.produced * f.down) / f.up) - f.halfTaps + 1;
    const drop = Math.max(0, Math.min(this.bufLen, firstNeeded - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    if (this.bufLen + chunk.length > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + chunk.length));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    this.buf.set(chunk, this.bufLen);
    this.bufLen += chunk.length;
  }

  /** Computes outputs n while input q(n) + halfTaps < available (and n < limit). */
  private drain(available: number, limit = Infinity): Float32Array {
    const f = this.filter!;
    const taps = 2 * f.halfTaps;
    // Largest n with floor(n*down/up) + halfTaps <= available - 1.
    const qMax = available - 1 - f.halfTaps;
    let end = qMax < 0 ? 0 : Math.floor(((qMax + 1) * f.up - 1) / f.down) + 1;
    end = Math.min(end, limit);
    const count = Math.max(0, end - this.produced);
    const out = new Float32Array(count);
    const buf = this.buf;
    for (let o = 0; o < count; o++) {
      const n = this.produced + o;
      const num = n * f.down;
      const q = Math.floor(num / f.up);
      const r = num - q * f.up;
      const row = r * taps;
      const j0 = q - f.halfTaps + 1 - this.bufStart; // may be negative: zeros before the start
      let acc = 0;
      for (let i = j0 < 0 ? -j0 : 0; i < taps; i++) acc += f.table[row + i] * buf[j0 + i];
      out[o] = acc;
    }
    this.produced += count;
    return out;
  }
}

/** Offline resampling: the streaming resampler fed once and finished. */
export function resample(input: Float32Array, inRate: number, outRate: number): Float32Array {
  const rs = new StreamingResampler(inRate, outRate);
  const a = rs.push(input);
  const b = rs.finish();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
