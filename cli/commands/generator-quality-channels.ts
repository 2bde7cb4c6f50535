/**
 * Degraded listening conditions for `generator-quality --channels` (issue 12: the telephone-band
 * and noisy figures must stay within 0.05 of the clean one). Applied to the waveform before the
 * generator's own front end, so they test the whole chain as a call would deliver it:
 *   telephone  resampled to 8 kHz and back (everything above ~3.5 kHz gone), then a 300 Hz
 *              second-order high-pass: the narrow band of a landline or GSM call;
 *   noise20    pink-ish noise at 20 dB below the speech's voiced RMS;
 *   noise10    the same at 10 dB (a loud café).
 * Seeded, so a condition gives the same audio on every run.
 */
import { ConfigError } from '../../worker/errors.ts';
import { StreamingResampler } from '../../worker/audio/resample.ts';
import { activeRms } from '../../worker/landmarks/loudness-check.ts';
import { gaussian, makeRng } from '../../worker/landmarks/model.ts';

export const CHANNELS = ['clean', 'telephone', 'noise20', 'noise10'] as const;
export type Channel = (typeof CHANNELS)[number];

export function parseChannels(s: string): Channel[] {
  const out = s.split(',').filter(Boolean);
  for (const c of out) if (!(CHANNELS as readonly string[]).includes(c)) throw new ConfigError(`--channels: expected a list of ${CHANNELS.join(', ')}, got ${JSON.stringify(c)}`);
  if (out.length === 0) throw new ConfigError('--channels: expected at least one condition');
  return out as Channel[];
}

function resample(pcm: Float32Array, from: number, to: number): Float32Array {
  const r = new StreamingResampler(from, to);
  const a = r.push(pcm);
  const b = r.finish();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** RBJ biquad high-pass (Q = 0.707). */
function highPass(x: Float32Array, rate: number, hz: number): Float32Array {
  const w = (2 * Math.PI * hz) / rate;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  const b0 = (1 + cos) / 2 / a0;
  const b1 = -(1 + cos) / a0;
  const b2 = b0;
  const a1 = (-2 * cos) / a0;
  const a2 = (1 - alpha) / a0;
  const y = new Float32Array(x.length);
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = v;
    y[i] = v;
  }
  return y;
}

export function degrade(pcm: Float32Array, sampleRate: number, channel: Channel, seed = 11): Float32Array {
  if (channel === 'clean') return pcm;
  if (channel === 'telephone') {
    const narrow = sampleRate > 8000 ? resample(resample(pcm, sampleRate, 8000), 8000, sampleRate).subarray(0, pcm.length) : pcm;
    return highPass(narrow, sampleRate, 300);
  }
  const snr = channel === 'noise20' ? 20 : 10;
  const rms = activeRms(pcm, sampleRate) * Math.pow(10, -snr / 20);
  const rng = makeRng(seed);
  const noise = new Float32Array(pcm.length);
  let a = 0;
  let s = 0;
  for (let i = 0; i < noise.length; i++) {
    const w = gaussian(rng);
    a = 0.9 * a + 0.1 * w;
    noise[i] = 2 * a + 0.5 * w;
    s += noise[i] ** 2;
  }
  const k = rms / Math.sqrt(s / Math.max(1, noise.length));
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, pcm[i] + k * noise[i]));
  return out;
}
