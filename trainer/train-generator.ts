/**
 * Trains a landmark generator from (audio, landmark track [T,68,3] at 25 fps) pairs.
 *
 * Targets are z-scored per number with the training track's own mean and std (these become
 * the model's outMean/outScale), the loss is a weighted MSE in that space (mouth points
 * weighted `mouthWeight`, the rest 1), optimised with Adam over random segments. The last
 * `validationFraction` of every pair is held out and reported.
 */
import { ConfigError } from '../worker/errors.ts';
import { audioToMel, resampledLength } from '../worker/audio/features.ts';
import { MEL } from '../worker/audio/mel.ts';
import { LANDMARK_DIM, MEL_PER_FRAME, createGenerator, makeRng, melFramesFor, melStart, type LandmarkGenerator, type LandmarkSpace } from '../worker/landmarks/model.ts';
import { framesForSamples } from '../worker/landmarks/stream.ts';
import { Adam } from './adam.ts';
import { backwardTrain, forwardTrain, zeroGrads } from './backprop.ts';

export interface TrainingPair {
  pcm: Float32Array;
  sampleRate: number;
  /** [frames][68*3] */
  landmarks: Float32Array;
  frames: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
}

export interface TrainOptions {
  epochs: number;
  channels: number;
  segmentFrames: number;
  batch: number;
  lr: number;
  seed: number;
  mouthWeight: number;
  validationFraction: number;
  /** random gain of the input in dB, +- this (0 = off) */
  gainDb: number;
  space: LandmarkSpace;
  /** stop after this many optimiser steps (tests) */
  maxSteps: number;
  onProgress?: (p: TrainProgress) => void;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: 20,
  channels: 128,
  segmentFrames: 48,
  batch: 4,
  lr: 1e-3,
  seed: 1,
  mouthWeight: 2,
  validationFraction: 0.1,
  gainDb: 6,
  space: 'avatar',
  maxSteps: Number.POSITIVE_INFINITY,
};

export interface TrainResult {
  generator: LandmarkGenerator;
  trainLoss: number;
  validationLoss: number | null;
  steps: number;
}

interface Prepared {
  /** mel frames from melStart on */
  mel: Float32Array;
  /** z-scored targets [frames][204] */
  target: Float32Array;
  frames: number;
  trainFrames: number;
}

interface Segment {
  pair: number;
  start: number;
  frames: number;
}

/** Bound on the total training audio (4 hours at 25 fps). */
const MAX_TOTAL_FRAMES = 4 * 3600 * 25;

export function dimWeights(mouthWeight: number): Float32Array {
  const w = new Float32Array(LANDMARK_DIM);
  for (let p = 0; p < 68; p++) for (let c = 0; c < 3; c++) w[p * 3 + c] = p >= 48 ? mouthWeight : 1;
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  for (let i = 0; i < w.length; i++) w[i] /= mean;
  return w;
}

/** Weighted MSE of z against target rows [t0, t0+frames); writes dL/dz scaled by `norm`. */
function lossAndGrad(z: Float32Array, target: Float32Array, t0: number, frames: number, w: Float32Array, norm: number, dz: Float32Array | null): number {
  let loss = 0;
  for (let t = 0; t < frames; t++) {
    for (let d = 0; d < LANDMARK_DIM; d++) {
      const e = z[t * LANDMARK_DIM + d] - target[(t0 + t) * LANDMARK_DIM + d];
      loss += w[d] * e * e;
      if (dz) dz[t * LANDMARK_DIM + d] = (2 * w[d] * e) / norm;
    }
  }
  return loss / norm;
}

function melSlice(g: LandmarkGenerator, p: Prepared, start: number, frames: number): { mel: Float32Array; nMel: number } {
  const nMel = melFramesFor(g, frames);
  const from = start * MEL_PER_FRAME;
  return { mel: p.mel.subarray(from * MEL.bins, (from + nMel) * MEL.bins), nMel };
}

/** Changes the input gain by `db` in the power domain (the log floor stays a floor). */
function applyGain(mel: Float32Array, db: number): Float32Array {
  const g = Math.pow(10, db / 10);
  const out = new Float32Array(mel.length);
  for (let i = 0; i < mel.length; i++) out[i] = Math.log(Math.max(0, Math.exp(mel[i]) - MEL.floor) * g + MEL.floor);
  return out;
}

export function trainGenerator(pairs: TrainingPair[], options: Partial<TrainOptions> = {}): TrainResult {
  const o: TrainOptions = { ...TRAIN_DEFAULTS, ...options };
  if (pairs.length === 0) throw new ConfigError('train.pairs: expected at least one (audio, landmarks) pair');
  if (!Number.isInteger(o.epochs) || o.epochs < 1 || o.epochs > 10_000) throw new ConfigError(`train.epochs: expected 1..10000, got ${o.epochs}`);
  if (!Number.isInteger(o.segmentFrames) || o.segmentFrames < 1 || o.segmentFrames > 1000) throw new ConfigError(`train.segmentFrames: expected 1..1000, got ${o.segmentFrames}`);
  if (!Number.isInteger(o.batch) || o.batch < 1 || o.batch > 256) throw new ConfigError(`train.batch: expected 1..256, got ${o.batch}`);
  const g = createGenerator({ channels: o.channels, lookAhead: 2 }, o.seed);
  g.space = o.space;
  const start = melStart(g);

  // Features and raw targets; the track and the audio may differ by a frame or two.
  let total = 0;
  const raw = pairs.map((p, i) => {
    if (p.landmarks.length !== p.frames * LANDMARK_DIM) throw new ConfigError(`train.pairs[${i}].landmarks: expected ${p.frames}x${LANDMARK_DIM} values, got ${p.landmarks.length}`);
    const frames = Math.min(p.frames, framesForSamples(resampledLength(p.pcm.length, p.sampleRate)));
    if (frames < 1) throw new ConfigError(`train.pairs[${i}]: no frames shared by the audio and the track`);
    total += frames;
    if (total > MAX_TOTAL_FRAMES) throw new ConfigError(`train.pairs: expected at most ${MAX_TOTAL_FRAMES} frames in all`);
    const mel = audioToMel(p.pcm, p.sampleRate, start, start + melFramesFor(g, frames));
    const trainFrames = frames >= 20 ? Math.max(1, Math.floor(frames * (1 - o.validationFraction))) : frames;
    return { mel, landmarks: p.landmarks, frames, trainFrames };
  });

  // Normalisation statistics from the training part only.
  const fSum = new Float64Array(MEL.bins);
  const fSq = new Float64Array(MEL.bins);
  const ySum = new Float64Array(LANDMARK_DIM);
  const ySq = new Float64Array(LANDMARK_DIM);
  let nf = 0;
  let ny = 0;
  for (const r of raw) {
    const melRows = melFramesFor(g, r.trainFrames);
    for (let t = 0; t < melRows; t++, nf++) {
      for (let c = 0; c < MEL.bins; c++) {
        const v = r.mel[t * MEL.bins + c];
        fSum[c] += v;
        fSq[c] += v * v;
      }
    }
    for (let t = 0; t < r.trainFrames; t++, ny++) {
      for (let d = 0; d < LANDMARK_DIM; d++) {
        const v = r.landmarks[t * LANDMARK_DIM + d];
        ySum[d] += v;
        ySq[d] += v * v;
      }
    }
  }
  for (let c = 0; c < MEL.bins; c++) {
    const m = fSum[c] / nf;
    g.featMean[c] = m;
    g.featScale[c] = 1 / Math.max(0.5, Math.sqrt(Math.max(0, fSq[c] / nf - m * m)));
  }
  for (let d = 0; d < LANDMARK_DIM; d++) {
    const m = ySum[d] / ny;
    g.outMean[d] = m;
    g.outScale[d] = Math.max(1e-4, Math.sqrt(Math.max(0, ySq[d] / ny - m * m)));
  }
  const data: Prepared[] = raw.map((r) => {
    const target = new Float32Array(r.frames * LANDMARK_DIM);
    for (let i = 0; i < target.length; i++) target[i] = (r.landmarks[i] - g.outMean[i % LANDMARK_DIM]) / g.outScale[i % LANDMARK_DIM];
    return { mel: r.mel, target, frames: r.frames, trainFrames: r.trainFrames };
  });

  const segments: Segment[] = [];
  data.forEach((p, pair) => {
    for (let s = 0; s < p.trainFrames; s += o.segmentFrames) segments.push({ pair, start: s, frames: Math.min(o.segmentFrames, p.trainFrames - s) });
  });
  const w = dimWeights(o.mouthWeight);
  const params = g.layers.flatMap((l) => [l.weight, l.bias]);
  const adam = new Adam(params, { lr: o.lr });
  const rng = makeRng(o.seed ^ 0x9e3779b9);
  const stepsPerEpoch = Math.ceil(segments.length / o.batch);
  const steps = Math.min(o.maxSteps, stepsPerEpoch * o.epochs);
  let step = 0;
  let lastLoss = 0;
  for (let epoch = 0; epoch < o.epochs && step < steps; epoch++) {
    for (let i = segments.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [segments[i], segments[j]] = [segments[j], segments[i]];
    }
    let epochLoss = 0;
    let epochCount = 0;
    for (let b = 0; b < segments.length && step < steps; b += o.batch) {
      const batch = segments.slice(b, b + o.batch);
      const norm = batch.reduce((a, s) => a + s.frames, 0) * LANDMARK_DIM;
      const grads = zeroGrads(g);
      let loss = 0;
      for (const s of batch) {
        const p = data[s.pair];
        let { mel, nMel } = melSlice(g, p, s.start, s.frames);
        if (o.gainDb > 0) mel = applyGain(mel, (2 * rng() - 1) * o.gainDb);
        const a = forwardTrain(g, mel, nMel);
        const z = a.acts[a.acts.length - 1];
        const dz = new Float32Array(z.length);
        loss += lossAndGrad(z, p.target, s.start, s.frames, w, norm, dz);
        backwardTrain(g, a, dz, grads);
      }
      const lr = o.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / steps)));
      adam.update(grads.flatMap((x) => [x.weight, x.bias]), lr);
      step++;
      epochLoss += loss;
      epochCount++;
      lastLoss = epochLoss / epochCount;
      o.onProgress?.({ epoch, epochs: o.epochs, step, steps, loss: lastLoss });
    }
  }
  return { generator: g, trainLoss: lastLoss, validationLoss: validationLoss(g, data, w), steps: step };
}

function validationLoss(g: LandmarkGenerator, data: Prepared[], w: Float32Array): number | null {
  let loss = 0;
  let n = 0;
  for (const p of data) {
    const frames = p.frames - p.trainFrames;
    if (frames <= 0) continue;
    const { mel, nMel } = melSlice(g, p, p.trainFrames, frames);
    const a = forwardTrain(g, mel, nMel);
    loss += lossAndGrad(a.acts[a.acts.length - 1], p.target, p.trainFrames, frames, w, 1, null);
    n += frames * LANDMARK_DIM;
  }
  return n > 0 ? loss / n : null;
}
