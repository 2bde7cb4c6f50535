import { describe, expect, it } from 'vitest';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';
import { lipOpening } from '../../worker/landmarks/quality.ts';
import { closureFrameWeights, trainGenerator } from '../../trainer/train-generator.ts';

describe('closure-weighted generator loss', () => {
  it('weights the frames within the radius of each closure and nothing else, clipped at the ends', () => {
    expect(Array.from(closureFrameWeights(8, [0, 4], 5, 1))).toEqual([5, 5, 1, 5, 5, 5, 1, 1]);
    expect(Array.from(closureFrameWeights(5, [4], 3, 0))).toEqual([1, 1, 1, 1, 3]);
    expect(Array.from(closureFrameWeights(4, [], 9, 2))).toEqual([1, 1, 1, 1]);
  });

  // Audio that says nothing about the closures (digital silence: every feature row alike), a
  // track that is open except at every fifth frame: an MSE model can only hedge, to the
  // weighted mean opening, so the weight alone decides where it lands.
  const rate = 16000;
  const frames = 100;
  const pcm = new Float32Array(frames * 640);
  const closures = Array.from({ length: 20 }, (_, k) => 5 * k + 2);
  const landmarks = new Float32Array(frames * 204);
  for (let t = 0; t < frames; t++) {
    const open = closures.includes(t) ? 0 : 1;
    landmarks[t * 204 + 62 * 3 + 1] = open / 2; // upper inner lip up, lower down: opening = open
    landmarks[t * 204 + 66 * 3 + 1] = -open / 2;
  }
  const pair = { pcm, sampleRate: rate, landmarks, frames, closureFrames: closures };
  const opts = { channels: 4, epochs: 200, maxSteps: 100, segmentFrames: 25, lr: 0.02, space: 'template' as const, validationFraction: 0 };
  const meanOpeningAtClosures = (w: number, extra: object = {}) => {
    const g = trainGenerator([pair], { ...opts, closureWeight: w, closureRadius: 0, ...extra }).generator;
    const pred = predictLandmarks(g, pcm, rate, null);
    const o = lipOpening(pred.landmarks, pred.frames);
    return closures.reduce((s, f) => s + o[f], 0) / closures.length;
  };

  it('pulls the hedged opening at closures to the weighted mean (also under speed warp)', () => {
    // Unweighted optimum: the mean opening, 0.8; weight 3 on a fifth of the frames: 0.8 / 1.4.
    expect(meanOpeningAtClosures(1)).toBeCloseTo(0.8, 2);
    expect(meanOpeningAtClosures(3)).toBeCloseTo(0.8 / 1.4, 1);
    expect(meanOpeningAtClosures(3, { speed: 0.1 })).toBeLessThan(0.7);
  });

  it('rejects bad closure settings and closure frames outside the track, naming the field', () => {
    expect(() => trainGenerator([pair], { ...opts, closureWeight: 0.5 })).toThrow(/train.closureWeight/);
    expect(() => trainGenerator([pair], { ...opts, closureRadius: 1.5 })).toThrow(/train.closureRadius/);
    expect(() => trainGenerator([{ ...pair, closureFrames: [frames] }], { ...opts, closureWeight: 2 })).toThrow(/pairs\[0\]\.closureFrames/);
  });
});
