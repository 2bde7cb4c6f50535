import { describe, expect, it } from 'vitest';
import { AudioFeatureStream, audioToMel } from '../../worker/audio/features.ts';
import { LogMelExtractor, MEL, logMel } from '../../worker/audio/mel.ts';

function noisyTone(rate: number, seconds: number): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = 0.3 * Math.sin((2 * Math.PI * 300 * i) / rate) * (1 + Math.sin(i / 2000)) + 0.05 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

describe('log-mel features', () => {
  it('puts a 1 kHz tone energy in the mel bin whose centre is nearest 1 kHz', () => {
    const x = new Float32Array(16000);
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000);
    const f = logMel(x, 0, 50);
    const row = f.subarray(30 * MEL.bins, 31 * MEL.bins);
    const best = row.indexOf(Math.max(...row));
    const lo = 2595 * Math.log10(1 + MEL.fmin / 700);
    const hi = 2595 * Math.log10(1 + MEL.fmax / 700);
    const centreHz = (m: number) => 700 * (10 ** ((lo + ((hi - lo) * (m + 1)) / (MEL.bins + 1)) / 2595) - 1);
    expect(Math.abs(centreHz(best) - 1000)).toBeLessThan(60);
  });

  it('gives ln(1e-6) for digital silence, including frames before the audio starts', () => {
    const f = logMel(new Float32Array(3200), -5, 10);
    expect(f.length).toBe(15 * MEL.bins);
    for (const v of f) expect(v).toBeCloseTo(Math.log(1e-6), 6);
  });

  it('streaming and offline features are identical for chunk sizes 128..4800 at 48, 44.1, 22.05 and 16 kHz', () => {
    for (const rate of [48000, 44100, 22050, 16000]) {
      const x = noisyTone(rate, 0.7);
      const offline = audioToMel(x, rate, -7, 60);
      expect(offline.length).toBe(67 * MEL.bins);
      for (const chunk of [128, 333, 1024, 4800]) {
        const fs = new AudioFeatureStream(-7);
        const parts: number[] = [];
        for (let at = 0; at < x.length; at += chunk) parts.push(...fs.push(x.subarray(at, at + chunk), rate));
        parts.push(...fs.finish(60));
        expect(Float32Array.from(parts.slice(0, offline.length)), `rate ${rate} chunk ${chunk}`).toEqual(offline);
      }
    }
  });

  it('emits a frame only once its last sample has arrived', () => {
    const ex = new LogMelExtractor(0);
    // frame 0 covers samples [-200, 200): complete after 200 samples.
    expect(ex.push(new Float32Array(199)).length).toBe(0);
    expect(ex.push(new Float32Array(1)).length).toBe(MEL.bins);
    expect(ex.push(new Float32Array(159)).length).toBe(0);
    expect(ex.push(new Float32Array(1)).length).toBe(MEL.bins);
  });

  it('rejects a change of sample rate mid-stream and non-finite samples', () => {
    const fs = new AudioFeatureStream(0);
    fs.push(new Float32Array(480), 48000);
    expect(() => fs.push(new Float32Array(480), 44100)).toThrow(/48000/);
    expect(() => fs.push(Float32Array.of(0, NaN), 48000)).toThrow(/pcm\[1\]/);
  });
});
