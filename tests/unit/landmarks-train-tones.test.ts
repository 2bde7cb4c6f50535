import { describe, expect, it } from 'vitest';
import { MEL } from '../../worker/audio/mel.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { MEL_CENTRES, nonSpeechMel, toLogMel, toneSequenceMel, toPower } from '../../trainer/generator-augment.ts';
import { trainGenerator } from '../../trainer/train-generator.ts';

const B = MEL.bins;
const rows = 192; // one 48-frame training segment at 100 mel rows per second

/** speech-like rows: loud frames alternating with quiet ones, power spread over bins below `topHz` */
function speechRows(topHz: number = MEL.fmax, loud = 1e-2): Float32Array {
  const p = new Float64Array(rows * B);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < B; c++) p[t * B + c] = MEL_CENTRES.hz[c] <= topHz ? (Math.floor(t / 12) % 2 ? loud : loud * 1e-3) : 1e-9;
  }
  return toLogMel(p);
}

const framePower = (p: Float64Array, t: number) => p.subarray(t * B, (t + 1) * B).reduce((a, b) => a + b, 0);

describe('tone-sequence (music / hummed tune) segments', () => {
  it('are loudness-matched to the speech they replace, within +-7 dB', () => {
    const rng = makeRng(3);
    const speech = speechRows();
    for (let k = 0; k < 20; k++) {
      const p = toPower(toneSequenceMel(speech, rows, rng));
      const f = Array.from({ length: rows }, (_, t) => framePower(p, t)).sort((a, b) => b - a);
      const peak = f.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
      const db = 10 * Math.log10(peak / (1e-2 * B));
      expect(db).toBeGreaterThan(-7);
      expect(db).toBeLessThan(7);
    }
  });

  it('have onsets and pauses (not a steady hum) and harmonic peaks (not noise)', () => {
    const rng = makeRng(4);
    const speech = speechRows();
    let rhythmic = 0;
    for (let k = 0; k < 20; k++) {
      const p = toPower(toneSequenceMel(speech, rows, rng));
      const f = Array.from({ length: rows }, (_, t) => framePower(p, t));
      const sorted = [...f].sort((a, b) => a - b);
      // 20 dB or more between the loudest and the quietest tenth of the rows: note decays and gaps
      if (10 * Math.log10(sorted[rows - 1] / sorted[Math.floor(rows / 10)]) > 20) rhythmic++;
      // the loudest row: its strongest bin far above the median bin (harmonics, not a smooth spectrum)
      const t = f.indexOf(sorted[rows - 1]);
      const row = Array.from(p.subarray(t * B, (t + 1) * B)).sort((a, b) => a - b);
      expect(10 * Math.log10(row[B - 1] / row[B >> 1])).toBeGreaterThan(10);
    }
    expect(rhythmic).toBeGreaterThanOrEqual(16);
  });

  it('pass through the speech channel: nothing above an 8 kHz recording\'s 4 kHz band edge', () => {
    const speech = speechRows(3800);
    const high = MEL_CENTRES.hz.findIndex((f) => f > 4400);
    for (const make of [toneSequenceMel, nonSpeechMel]) {
      const rng = makeRng(5);
      for (let k = 0; k < 10; k++) {
        const p = toPower(make(speech, rows, rng));
        let above = 0;
        let total = 0;
        for (let t = 0; t < rows; t++) {
          for (let c = 0; c < B; c++) {
            total += p[t * B + c];
            if (c >= high) above += p[t * B + c];
          }
        }
        expect(10 * Math.log10(above / total)).toBeLessThan(-30);
      }
      // full-band speech leaves the sound's high harmonics in place
      const full = toPower(make(speechRows(), rows, makeRng(6)));
      let above = 0;
      let total = 0;
      for (let i = 0; i < full.length; i++) {
        total += full[i];
        if (i % B >= high) above += full[i];
      }
      expect(10 * Math.log10(above / total)).toBeGreaterThan(-30);
    }
  });

  it('are validated, and drawn only when asked for', () => {
    expect(() => toneSequenceMel(new Float32Array(10), rows, makeRng(1))).toThrow(/augment.tones: expected/);
    const rate = 16000;
    const frames = 60;
    const rng = makeRng(9);
    const pcm = Float32Array.from({ length: frames * 640 }, (_, i) => 0.2 * Math.sin(i * 0.07) * (Math.floor(i / 6400) % 2) + 0.001 * rng());
    const pair = { pcm, sampleRate: rate, landmarks: new Float32Array(frames * 204), frames };
    const opts = { channels: 4, maxSteps: 3, epochs: 5, segmentFrames: 20, space: 'template' as const };
    expect(() => trainGenerator([pair], { ...opts, tones: 0.6 })).toThrow(/train.tones: expected/);
    expect(() => trainGenerator([pair], { ...opts, tones: 0.2, nonSpeech: 0.2, quietRoom: 0.2 })).toThrow(/train.tones: expected/);
    expect(() => trainGenerator([pair], { ...opts, space: 'avatar', tones: 0.1 })).toThrow(/train.tones: needs space "template"/);
    // tones 0 draws the same random stream as before the option existed; tones > 0 changes the run
    const withNon = { ...opts, nonSpeech: 0.2 };
    expect(trainGenerator([pair], { ...withNon, tones: 0 }).trainLoss).toBe(trainGenerator([pair], withNon).trainLoss);
    expect(trainGenerator([pair], { ...withNon, tones: 0.3 }).trainLoss).not.toBe(trainGenerator([pair], withNon).trainLoss);
  });
});
