import { describe, expect, it } from 'vitest';
import { designResampler, resample, StreamingResampler } from '../../worker/audio/resample.ts';

function tone(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** RMS over the middle half, away from the start/end transients. */
function midRms(x: Float32Array): number {
  const a = Math.floor(x.length / 4);
  const b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return Math.sqrt(s / (b - a));
}

describe('resampler', () => {
  it('passes a 1 kHz tone from 48 kHz to 16 kHz with unit gain and the right frequency', () => {
    const y = resample(tone(1000, 48000, 0.5), 48000, 16000);
    expect(y.length).toBe(8000);
    const ref = tone(1000, 16000, 0.5);
    let err = 0;
    for (let i = 2000; i < 6000; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
    expect(err).toBeLessThan(2e-3);
  });

  it('attenuates a 9 kHz tone (which would alias to 7 kHz) by at least 70 dB at 48 -> 16 kHz', () => {
    const y = resample(tone(9000, 48000, 0.5), 48000, 16000);
    const db = 20 * Math.log10(midRms(y) / (0.5 / Math.SQRT2));
    expect(db).toBeLessThan(-70);
  });

  it('attenuates an 8.5 kHz tone by at least 70 dB at 44.1 -> 16 kHz and passes 6 kHz within 0.1 dB', () => {
    const stop = resample(tone(8500, 44100, 0.5), 44100, 16000);
    expect(20 * Math.log10(midRms(stop) / (0.5 / Math.SQRT2))).toBeLessThan(-70);
    const pass = resample(tone(6000, 44100, 0.5), 44100, 16000);
    expect(Math.abs(20 * Math.log10(midRms(pass) / (0.5 / Math.SQRT2)))).toBeLessThan(0.1);
  });

  it('produces ceil(n * out / in) samples for 22.05 kHz, 44.1 kHz and 8 kHz input', () => {
    for (const rate of [22050, 44100, 8000]) {
      const n = 12345;
      expect(resample(new Float32Array(n), rate, 16000).length).toBe(Math.ceil((n * 16000) / rate));
    }
  });

  it('gives bit-identical output whatever the chunk sizes', () => {
    const x = tone(440, 44100, 0.3);
    for (let i = 0; i < x.length; i++) x[i] += 0.1 * Math.sin(i * 1.7);
    const offline = resample(x, 44100, 16000);
    for (const chunk of [128, 441, 1000, 4800]) {
      const rs = new StreamingResampler(44100, 16000);
      const parts: number[] = [];
      for (let at = 0; at < x.length; at += chunk) parts.push(...rs.push(x.subarray(at, at + chunk)));
      parts.push(...rs.finish());
      expect(Float32Array.from(parts)).toEqual(offline);
    }
  });

  it('rejects a sample rate outside 4..384 kHz with a message naming the rate', () => {
    expect(() => designResampler(1000, 16000)).toThrow(/inRate.*1000/);
    expect(() => new StreamingResampler(48000.5, 16000)).toThrow(/inRate/);
  });
});
