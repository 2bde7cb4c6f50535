import { describe, expect, it } from 'vitest';
import { MEL } from '../../worker/audio/mel.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { pairFeatures, trainGenerator } from '../../trainer/train-generator.ts';
import { generatorToOnnx, generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { AUGMENT_DEFAULTS, AUGMENT_OFF, MEL_CENTRES, addNoise, augmentMel, bandLimit, checkAugment, reverberate, toLogMel, toPower, warpBins } from '../../trainer/generator-augment.ts';

const B = MEL.bins;
const bin = (hz: number) => MEL_CENTRES.hz.reduce((best, f, i) => (Math.abs(f - hz) < Math.abs(MEL_CENTRES.hz[best] - hz) ? i : best), 0);

/** rows of power with one bright bin per row, silence elsewhere */
function tone(rows: number, c: number, level = 1): Float64Array {
  const p = new Float64Array(rows * B);
  for (let t = 0; t < rows; t++) p[t * B + c] = level;
  return p;
}

describe('generator feature augmentation', () => {
  it('mel centres follow the filterbank: 80 rising centres inside 20..7600 Hz', () => {
    expect(MEL_CENTRES.hz.length).toBe(B);
    expect(MEL_CENTRES.hz[0]).toBeGreaterThan(MEL.fmin);
    expect(MEL_CENTRES.hz[B - 1]).toBeLessThan(MEL.fmax);
    for (let i = 1; i < B; i++) expect(MEL_CENTRES.hz[i]).toBeGreaterThan(MEL_CENTRES.hz[i - 1]);
  });

  it('warping the mel axis moves energy up for alpha > 1 and keeps it for alpha = 1', () => {
    const p = tone(3, 30);
    expect(Array.from(warpBins(p, 3, 1))).toEqual(Array.from(p));
    const up = warpBins(p, 3, 1.1);
    const centroid = (x: Float64Array) => {
      let s = 0;
      let w = 0;
      for (let c = 0; c < B; c++) {
        s += c * x[c];
        w += x[c];
      }
      return s / w;
    };
    expect(centroid(up)).toBeCloseTo(33, 0);
    expect(centroid(warpBins(p, 3, 0.9))).toBeCloseTo(27, 0);
  });

  it('reverberation decays 60 dB in T60 and has the asked direct-to-reverberant ratio', () => {
    const rows = 200;
    const p = new Float64Array(rows * B);
    p[10 * B + 5] = 1; // an impulse
    const t60 = 0.5;
    const r = reverberate(p, rows, t60, 6);
    expect(r[10 * B + 5]).toBe(1);
    const first = r[11 * B + 5];
    const later = r[(11 + t60 * MEL.rate) * B + 5];
    expect(10 * Math.log10(first / later)).toBeCloseTo(60, 0);
    let tail = 0;
    for (let t = 11; t < rows; t++) tail += r[t * B + 5];
    expect(10 * Math.log10(1 / tail)).toBeCloseTo(6, 0);
  });

  it('the telephone band keeps 1 kHz and removes stopDb an octave or more outside 300-3400 Hz', () => {
    const rows = 1;
    const p = new Float64Array(B).fill(1);
    const out = bandLimit(p, rows, 40);
    expect(out[bin(1000)]).toBe(1);
    expect(10 * Math.log10(out[bin(7200)])).toBeCloseTo(-40, 5);
    expect(MEL_CENTRES.hz[0]).toBeLessThan(150);
    expect(10 * Math.log10(out[0])).toBeCloseTo(-40, 5);
    // half an octave below 300 Hz: half the attenuation
    const c = bin(300 / Math.SQRT2);
    expect(10 * Math.log10(out[c])).toBeCloseTo(-40 * Math.log2(300 / MEL_CENTRES.hz[c]), 5);
  });

  for (const snr of [10, 20, 30]) {
    it(`adds noise at ${snr} dB below the speech power`, () => {
      const rows = 400;
      const p = new Float64Array(rows * B);
      for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) p[t * B + c] = t < 200 ? 0.01 : 0; // speech, then silence
      const out = addNoise(p, rows, snr, 'pink', makeRng(3));
      let noise = 0;
      for (let t = 200; t < rows; t++) for (let c = 0; c < B; c++) noise += out[t * B + c];
      const speech = 0.01 * B;
      expect(10 * Math.log10(speech / (noise / 200))).toBeCloseTo(snr, 0);
    });
  }

  it('leaves features alone when switched off and changes them when on; output stays finite', () => {
    const rows = 60;
    const mel = new Float32Array(rows * B);
    const rng0 = makeRng(1);
    for (let i = 0; i < mel.length; i++) mel[i] = -8 + 4 * rng0();
    const off = augmentMel(mel, rows, makeRng(2), AUGMENT_OFF);
    for (let i = 0; i < mel.length; i++) expect(off[i]).toBeCloseTo(mel[i], 4);
    let changed = 0;
    const rng = makeRng(5);
    for (let k = 0; k < 20; k++) {
      const on = augmentMel(mel, rows, rng, { ...AUGMENT_DEFAULTS, probability: 1 });
      expect(on.every(Number.isFinite)).toBe(true);
      if (on.some((v, i) => Math.abs(v - mel[i]) > 0.05)) changed++;
    }
    expect(changed).toBeGreaterThanOrEqual(18);
    expect(Array.from(toLogMel(toPower(mel))).every((v, i) => Math.abs(v - mel[i]) < 1e-4)).toBe(true);
  });

  it('rejects options out of range with the field named', () => {
    expect(() => checkAugment({ ...AUGMENT_DEFAULTS, noise: 1.5 })).toThrow(/augment.noise/);
    expect(() => checkAugment({ ...AUGMENT_DEFAULTS, warp: 0.5 })).toThrow(/augment.warp/);
    expect(() => checkAugment({ ...AUGMENT_DEFAULTS, snrDb: [30, 10] })).toThrow(/augment.snrDb/);
  });
});

describe('generator training options for the default recipe', () => {
  const rate = 16000;
  const frames = 100;
  const rng = makeRng(9);
  const pcm = Float32Array.from({ length: frames * 640 }, (_, i) => 0.2 * Math.sin(i * 0.07) * (Math.floor(i / 6400) % 2) + 0.001 * rng());
  const landmarks = Float32Array.from({ length: frames * 204 }, (_, i) => (i % 204 === 66 * 3 + 1 ? -(Math.floor(i / 204 / 10) % 2) : 0));
  const pair = { pcm, sampleRate: rate, landmarks, frames };
  const opts = { channels: 4, maxSteps: 3, epochs: 5, segmentFrames: 20, space: 'template' as const, augment: { ...AUGMENT_DEFAULTS, probability: 1 }, speed: 0.15, nonSpeech: 0.2 };

  it('precomputed features train exactly like features computed inside, and a wrong-sized cache is refused', () => {
    const a = trainGenerator([pair], opts);
    const b = trainGenerator([{ ...pair, mel: pairFeatures(pair) }], opts);
    expect(b.trainLoss).toBe(a.trainLoss);
    expect(() => trainGenerator([{ ...pair, mel: new Float32Array(10) }], opts)).toThrow(/pairs\[0\]\.mel: expected/);
  });

  it('fine-tuning keeps the initial generator architecture and normalisation and changes its weights', () => {
    const base = trainGenerator([pair], opts).generator;
    const init = generatorFromOnnx(generatorToOnnx(base));
    const tuned = trainGenerator([pair], { ...opts, channels: 64, init }).generator;
    expect(tuned.layers[0].cout).toBe(4);
    expect(Array.from(tuned.featMean)).toEqual(Array.from(init.featMean));
    expect(Array.from(tuned.outScale)).toEqual(Array.from(init.outScale));
    expect(tuned.layers[0].weight).not.toEqual(init.layers[0].weight);
    expect(() => trainGenerator([pair], { ...opts, init: { ...init, space: 'avatar' } })).toThrow(/train.init: expected a template-space/);
  });

  it('rejects bad speed and non-speech settings, and non-speech outside template space', () => {
    expect(() => trainGenerator([pair], { ...opts, speed: 0.9 })).toThrow(/train.speed/);
    expect(() => trainGenerator([pair], { ...opts, nonSpeech: 0.9 })).toThrow(/train.nonSpeech: expected/);
    expect(() => trainGenerator([pair], { ...opts, space: 'avatar' })).toThrow(/train.nonSpeech: needs space "template"/);
  });
});
