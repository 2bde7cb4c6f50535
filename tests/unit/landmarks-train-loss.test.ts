import { describe, expect, it } from 'vitest';
import { LANDMARK_DIM, makeRng } from '../../worker/landmarks/model.ts';
import { MOUTH_DIM0, closureBestLoss, closureHoldLoss, mseLoss, restFrames, stillnessLoss } from '../../trainer/generator-loss.ts';
import { dimWeights, segmentClosures, trainGenerator } from '../../trainer/train-generator.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';

const D = LANDMARK_DIM;
const frames = 7;
const norm = frames * D;
const w = dimWeights(3);

function random(n: number, seed: number, scale = 1): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

/** Central differences of `f` at a few entries of z against the analytic gradient. */
function checkGradient(f: (z: Float32Array, dz: Float32Array) => number, z: Float32Array, entries: number[]): void {
  const dz = new Float32Array(z.length);
  f(z, dz);
  const h = 1e-2;
  for (const i of entries) {
    const zp = Float32Array.from(z);
    const zm = Float32Array.from(z);
    zp[i] += h;
    zm[i] -= h;
    const fd = (f(zp, new Float32Array(z.length)) - f(zm, new Float32Array(z.length))) / (zp[i] - zm[i]);
    expect(Math.abs(fd - dz[i]), `entry ${i}: fd ${fd} analytic ${dz[i]}`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(fd));
  }
}

/** Mouth dims at -2 (sealed lips) on the given frames, zero elsewhere. */
function sealedFrames(ts: number[]): Float32Array {
  const x = new Float32Array(frames * D);
  for (const t of ts) for (let d = MOUTH_DIM0; d < D; d++) x[t * D + d] = -2;
  return x;
}

describe('generator loss terms', () => {
  const target = random((frames + 2) * D, 1);
  const z = random(frames * D, 2);
  const mouth = (t: number, k: number) => t * D + MOUTH_DIM0 + k;
  // entries of every kind: mouth and non-mouth points, first, middle and last frames
  const entries = [0, 5, mouth(0, 0), mouth(1, 7), mouth(3, 30), 3 * D + 10, mouth(6, 59), 6 * D + 100];

  it('weighted MSE: analytic gradient matches finite differences, with per-frame mouth weights', () => {
    const fw = Float32Array.from({ length: frames + 2 }, (_, t) => 1 + t);
    checkGradient((x, dz) => mseLoss(x, target, 2, frames, w, norm, dz, fw), z, entries);
  });

  it('best-frame closure loss: analytic gradient matches finite differences, centres at both edges', () => {
    checkGradient((x, dz) => closureBestLoss(x, target, 1, frames, [0, 3, 6], 1, 5, w, norm, dz), z, entries);
    checkGradient((x, dz) => closureBestLoss(x, target, 0, frames, [2, 4], 2, 3, w, norm, dz), z, entries);
  });

  it('best-frame closure loss asks for the centre shape once within the radius, not on every frame', () => {
    const tgt = sealedFrames([3]); // sealed lips at the labelled centre, frame 3
    const out = new Float32Array(frames * D);
    const sealAt = (t: number) => closureBestLoss(sealedFrames([t]), tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D));
    // a frame early or late costs nothing; two frames off, or never, costs the whole error
    expect(sealAt(2)).toBe(0);
    expect(sealAt(4)).toBe(0);
    expect(sealAt(5)).toBeGreaterThan(0);
    expect(sealAt(5)).toBeCloseTo(closureBestLoss(out, tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D)), 9);
    // and the error is only the mouth's: a non-mouth mismatch at the centre is the MSE's business
    const x = sealedFrames([3]);
    x[3 * D] = 9;
    expect(closureBestLoss(x, tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D))).toBe(0);
  });

  it('hold closure loss: analytic gradient matches finite differences, centres at both edges', () => {
    checkGradient((x, dz) => closureHoldLoss(x, target, 1, frames, [0, 3, 6], 1, 5, w, norm, dz), z, entries);
    checkGradient((x, dz) => closureHoldLoss(x, target, 0, frames, [2, 4], 2, 3, w, norm, dz), z, entries);
  });

  it('hold closure loss asks for the sealed centre shape on every frame within the radius', () => {
    const tgt = sealedFrames([3]); // sealed lips at the labelled centre, frame 3
    const sealed = (ts: number[]) => closureHoldLoss(sealedFrames(ts), tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D));
    // sealed across the closure costs nothing; one frame of it, even the centre, is not enough
    expect(sealed([2, 3, 4])).toBe(0);
    expect(sealed([3])).toBeGreaterThan(0);
    expect(sealed([2, 3])).toBeGreaterThan(0);
    // each missing frame costs the same: two missing cost twice one
    expect(sealed([3])).toBeCloseTo(2 * sealed([2, 3]), 9);
    // frames outside the radius are not asked for
    expect(sealed([1, 2, 3, 4, 5])).toBe(0);
    // where the best-frame loss is satisfied by a frame early, the hold loss is not
    const early = sealedFrames([2]);
    expect(closureBestLoss(early, tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D))).toBe(0);
    expect(closureHoldLoss(early, tgt, 0, frames, [3], 1, 4, w, norm, new Float32Array(frames * D))).toBeGreaterThan(0);
  });

  it('stillness: analytic gradient matches finite differences; only pairs of still frames count', () => {
    const still = Uint8Array.from([1, 1, 0, 1, 1, 1, 0]);
    checkGradient((x, dz) => stillnessLoss(x, still, frames, 2, w, norm, dz), z, entries);
    // a constant output costs nothing; a jump between a still and a speaking frame costs nothing
    const flat = new Float32Array(frames * D).fill(0.3);
    expect(stillnessLoss(flat, still, frames, 2, w, norm, new Float32Array(frames * D))).toBe(0);
    flat[2 * D] = 5;
    expect(stillnessLoss(flat, still, frames, 2, w, norm, new Float32Array(frames * D))).toBe(0);
    flat[4 * D] = 5;
    expect(stillnessLoss(flat, still, frames, 2, w, norm, new Float32Array(frames * D))).toBeGreaterThan(0);
  });

  it('rest frames are those whose every template offset is within the tolerance of 0', () => {
    const outMean = new Float32Array(D).fill(0.5);
    const outScale = new Float32Array(D).fill(2);
    const tgt = new Float32Array(3 * D).fill(-0.25); // -0.25 * 2 + 0.5 = 0: rest
    tgt[D + 100] = -0.24; // offset 0.02
    tgt[2 * D + 7] = -0.2495; // offset 0.001
    expect(Array.from(restFrames(tgt, 0, 3, outMean, outScale, 0.01))).toEqual([1, 0, 1]);
  });

  it('closure centres follow a speed-warped segment to the nearest frame', () => {
    expect(segmentClosures([3, 10, 17, 18, 40], { start: 10, frames: 8 }, 1)).toEqual([0, 7]);
    // played 1.25x faster: pair frames 10..19 fit in 8 segment frames
    expect(segmentClosures([3, 10, 15, 19, 20], { start: 10, frames: 8 }, 1.25)).toEqual([0, 4, 7]);
  });
});

describe('trainer with the new terms', () => {
  const rate = 16000;
  const n = 60;
  // speech-like noise bursts for 20 frames, then a quiet room at rest for 40
  const rng = makeRng(5);
  const pcm = Float32Array.from({ length: n * 640 }, (_, i) => (i < 20 * 640 ? 0.3 : 0.003) * (2 * rng() - 1));
  const landmarks = new Float32Array(n * D);
  for (let t = 0; t < 20; t++) landmarks[t * D + 62 * 3 + 1] = 0.5 * Math.sin(t);
  const pair = { pcm, sampleRate: rate, landmarks, frames: n, closureFrames: [4, 12] };
  const opts = { channels: 8, epochs: 100, maxSteps: 60, segmentFrames: 30, lr: 0.01, space: 'template' as const, validationFraction: 0 };
  const jitter = (stillWeight: number): number => {
    const g = trainGenerator([pair], { ...opts, stillWeight }).generator;
    const p = predictLandmarks(g, pcm, rate, null);
    let j = 0;
    for (let t = 26; t < p.frames; t++) for (let d = 0; d < D; d++) j = Math.max(j, Math.abs(p.landmarks[t * D + d] - p.landmarks[(t - 1) * D + d]));
    return j;
  };

  it('the stillness weight makes the quiet-room part of the track stiller than the MSE alone', () => {
    expect(jitter(20)).toBeLessThan(0.5 * jitter(0));
  });

  it('trains with the best-frame closure loss and rejects bad settings naming the field', () => {
    const r = trainGenerator([pair], { ...opts, maxSteps: 3, closureWeight: 4, closureLoss: 'best', speed: 0.1 });
    expect(r.steps).toBe(3);
    expect(Number.isFinite(r.trainLoss)).toBe(true);
    const h = trainGenerator([pair], { ...opts, maxSteps: 3, closureWeight: 4, closureLoss: 'hold', speed: 0.1 });
    expect(h.steps).toBe(3);
    expect(Number.isFinite(h.trainLoss)).toBe(true);
    // the hold term is part of the loss: the same run without it reports less
    const off = trainGenerator([pair], { ...opts, maxSteps: 3, closureWeight: 1, closureLoss: 'hold', speed: 0.1 });
    expect(h.trainLoss).toBeGreaterThan(off.trainLoss);
    expect(() => trainGenerator([pair], { ...opts, closureLoss: 'nearest' as 'best' })).toThrow(/train.closureLoss: expected "frames", "best" or "hold"/);
    expect(() => trainGenerator([pair], { ...opts, stillWeight: -1 })).toThrow(/train.stillWeight/);
    expect(() => trainGenerator([pair], { ...opts, stillWeight: 1, space: 'avatar' })).toThrow(/train.stillWeight: needs space "template"/);
  });
});
