import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';

const ramp = (n: number, k = 1) => Float32Array.from({ length: n }, (_, i) => k * (i / n - 0.5));

function expectInputError(fn: () => unknown, field: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    expect((e as FormatError).code).toBe('INPUT_FORMAT');
    expect((e as FormatError).message).toMatch(field);
    return;
  }
  throw new Error('expected a FormatError');
}

describe('wav reader', () => {
  it('reads PCM16 mono back within one quantisation step', () => {
    const x = ramp(1000);
    const w = readWav(writeWav([x], 48000, 'pcm16'));
    expect(w.sampleRate).toBe(48000);
    expect(w.channels).toBe(1);
    expect(w.samples.length).toBe(1000);
    for (let i = 0; i < x.length; i++) expect(Math.abs(w.samples[i] - x[i])).toBeLessThan(1 / 32767);
  });

  it('reads PCM24 and float32 stereo and mixes them down to the channel mean', () => {
    const l = ramp(500);
    const r = ramp(500, -0.5);
    for (const format of ['pcm24', 'float32'] as const) {
      const w = readWav(writeWav([l, r], 22050, format));
      expect(w.channels).toBe(2);
      expect(w.sampleRate).toBe(22050);
      const tol = format === 'float32' ? 1e-7 : 1 / 8388607;
      for (let i = 0; i < 500; i++) {
        expect(Math.abs(w.channelData[1][i] - r[i])).toBeLessThan(tol);
        expect(Math.abs(w.samples[i] - 0.5 * (l[i] + r[i]))).toBeLessThan(tol);
      }
    }
  });

  it('skips unknown chunks (LIST) before the data chunk, including odd-sized ones', () => {
    const base = writeWav([ramp(10)], 16000);
    const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]);
    const file = new Uint8Array(base.length + list.length);
    file.set(base.subarray(0, 36));
    file.set(list, 36);
    file.set(base.subarray(36), 36 + list.length);
    expect(readWav(file).samples.length).toBe(10);
  });

  it('rejects a truncated data chunk with INPUT_FORMAT naming wav.data', () => {
    const f = writeWav([ramp(100)], 16000);
    expectInputError(() => readWav(f.subarray(0, f.length - 10)), /wav\.data.*truncated/);
  });

  it('rejects 8-bit PCM, 3 channels and a bad magic, naming the field', () => {
    const f = writeWav([ramp(10)], 16000);
    const bits8 = f.slice();
    new DataView(bits8.buffer).setUint16(34, 8, true);
    expectInputError(() => readWav(bits8), /bitsPerSample/);
    const ch3 = f.slice();
    new DataView(ch3.buffer).setUint16(22, 3, true);
    expectInputError(() => readWav(ch3), /channels/);
    const magic = f.slice();
    magic[0] = 0x58;
    expectInputError(() => readWav(magic), /wav\.riff/);
    expectInputError(() => readWav(new Uint8Array(4)), /^wav:/);
  });

  it('rejects a sample rate outside 4..384 kHz and non-finite float samples', () => {
    const f = writeWav([ramp(10)], 16000);
    const rate = f.slice();
    new DataView(rate.buffer).setUint32(24, 1000, true);
    expectInputError(() => readWav(rate), /sampleRate/);
    const nan = writeWav([Float32Array.of(0, NaN)], 16000, 'float32');
    expectInputError(() => readWav(nan), /finite/);
  });
});
