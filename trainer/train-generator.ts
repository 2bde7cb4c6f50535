/**
 * Trains a landmark generator from (audio, landmark track [T,68,3] at 25 fps) pairs.
 *
 * Targets are z-scored per number with the training track's own mean and std (these become
 * the model's outMean/outScale), the loss is a weighted MSE in that space (mouth points
 * weighted `mouthWeight`, the rest 1), optimised with Adam over random segments. The last
 * `validationFraction` of every pair is held out and reported.
 *
 * Bilabial closures (m, b, p) are a frame or two per word against tens of open frames, and the
 * lips are sealed only if the model commits: an MSE model unsure of the exact frame (aligned
 * corpora place closures within +-25 ms of the acoustic one, eSpeak NG's events ~28 ms after
 * it; scripts/corpus/closure-acoustics.ts) hedges with half-open lips, which reads as no
 * closure at all. `closureWeight` multiplies the mouth points' loss on the frames within
 * `closureRadius` of each closure centre the corpus names, so hedging there costs more; with
 * `closureLoss: 'best'` the extra weight goes to the best frame within the radius instead
 * (generator-loss.ts), so that a label a frame off the sound does not ask for a half-open mouth.
 * `stillWeight` penalises the change between consecutive outputs where the target is at rest.
 */
import { ConfigError } from '../worker/errors.ts';
import { audioToMel, resampledLength } from '../worker/audio/features.ts';
import { MEL } from '../worker/audio/mel.ts';
import { DEFAULT_GATE, OnlineMvn, priorFromFrames } from '../worker/audio/online-norm.ts';
import { LANDMARK_DIM, MEL_PER_FRAME, createGenerator, makeRng, melFramesFor, melStart, validateGenerator, type LandmarkGenerator, type LandmarkSpace } from '../worker/landmarks/model.ts';
import { framesForSamples } from '../worker/landmarks/stream.ts';
import { Adam, type AdamState } from './adam.ts';
import { AUGMENT_OFF, augmentMel, checkAugment, nonSpeechMel, quietRoomMel, toneSequenceMel, type AugmentOptions } from './generator-augment.ts';
import { backwardTrain, forwardTrain, zeroGrads } from './backprop.ts';
import { closureBestLoss, closureHoldLoss, mseLoss, restFrames, stillnessLoss } from './generator-loss.ts';

export interface TrainingPair {
  pcm: Float32Array;
  sampleRate: number;
  /** [frames][68*3] */
  landmarks: Float32Array;
  frames: number;
  /**
   * the pair's features if already computed (`pairFeatures`), so that several trainings on
   * the same audio (leave-one-out) pay for the front end once
   */
  mel?: Float32Array;
  /** frames at the centre of each bilabial closure (the corpus manifest's closureFrames) */
  closureFrames?: number[];
}

/** Log-mel rows a generator of this architecture reads for `p` (what trainGenerator computes). */
export function pairFeatures(p: TrainingPair, lookAhead = 2): Float32Array {
  const g = createGenerator({ channels: 1, lookAhead }, 1);
  const frames = Math.min(p.frames, framesForSamples(resampledLength(p.pcm.length, p.sampleRate)));
  const start = melStart(g);
  return audioToMel(p.pcm, p.sampleRate, start, start + melFramesFor(g, frames));
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
  /** channel and speaker augmentation of the features (generator-augment.ts) */
  augment: AugmentOptions;
  /** speed perturbation: each segment is played at a random rate in [1-speed, 1+speed] (0 = off) */
  speed: number;
  /**
   * share of segments replaced by a loudness-matched hum or noise burst with the rest pose as
   * target (0 = off), so that loudness alone never opens the mouth
   */
  nonSpeech: number;
  /** share of segments replaced by quiet room noise (35-75 dB below the speech) with the rest pose as target (0 = off) */
  quietRoom: number;
  /**
   * share of segments replaced by a loudness-matched sequence of music-like tones or hummed notes
   * (onsets, pitch changes and pauses at syllable rate; generator-augment.ts `toneSequenceMel`)
   * with the rest pose as target (0 = off)
   */
  tones: number;
  /**
   * fine-tune this generator instead of starting from random weights: its architecture and its
   * feature and output normalisation are kept (the weights expect them), `channels` is ignored
   */
  init: LandmarkGenerator | null;
  /** loss weight of the mouth points on frames near a bilabial closure centre (1 = off) */
  closureWeight: number;
  /** frames either side of each closure centre that get `closureWeight` */
  closureRadius: number;
  /**
   * 'frames': every frame within the radius gets `closureWeight`; 'best': each closure adds
   * (closureWeight-1) x (2 radius+1) x the mouth error of the best frame within the radius
   * against the centre's target (the same total emphasis when the model is on time); 'hold':
   * each closure adds (closureWeight-1) x the mouth error of every frame within the radius
   * against the centre's sealed target, so the lips stay shut across the closure
   */
  closureLoss: 'frames' | 'best' | 'hold';
  /** weight of the frame-to-frame change of the outputs on frames whose target is at rest (0 = off) */
  stillWeight: number;
  /**
   * train on online-normalised features (worker/audio/online-norm.ts) with this time constant
   * and prior weight in seconds; the prior is the training part's own statistics. null: the
   * features of `init` (raw log-mel from scratch). Switching a raw-feature `init` to it resets
   * featMean/featScale to identity, as the normalised features are already z-scored.
   * `quietFloor`: frames below the normaliser's gate read no lower than this many running
   * standard deviations below the running mean (online-norm.ts; absent: unbounded).
   */
  featureNorm: { tau: number; priorSeconds: number; quietFloor?: number } | null;
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
  augment: AUGMENT_OFF,
  speed: 0,
  nonSpeech: 0,
  quietRoom: 0,
  tones: 0,
  init: null,
  closureWeight: 1,
  closureRadius: 1,
  closureLoss: 'frames',
  stillWeight: 0,
  featureNorm: null,
  maxSteps: Number.POSITIVE_INFINITY,
};

export interface TrainResult {
  generator: LandmarkGenerator;
  trainLoss: number;
  validationLoss: number | null;
  steps: number;
}

export interface Prepared {
  /** mel frames from melStart on, as the model reads them (normalised when the generator is) */
  mel: Float32Array;
  /**
   * for a normalised generator, the same frames before the normaliser (raw log-mel): segments
   * are augmented there, as a microphone or line would change them, and normalised after
   */
  raw: Float32Array | null;
  /** z-scored targets [frames][204] */
  target: Float32Array;
  /** per-frame weight of the mouth points' loss (closures), null when all 1 */
  frameWeight: Float32Array | null;
  /** closure centres (frames), for closureLoss 'best' */
  closures: number[];
  frames: number;
  trainFrames: number;
}

export interface Segment {
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

/** Per-frame mouth weights: `weight` within `radius` frames of each closure centre, else 1. */
export function closureFrameWeights(frames: number, closures: readonly number[], weight: number, radius: number): Float32Array {
  const fw = new Float32Array(frames).fill(1);
  for (const c of closures) {
    for (let t = Math.max(0, c - radius); t <= Math.min(frames - 1, c + radius); t++) fw[t] = weight;
  }
  return fw;
}

/**
 * A target offset this close to 0 (template units, 0.01 = 0.1 mm) counts as the rest pose for
 * the stillness term: the tracks sit exactly at rest in silence.
 */
const STILL_TOLERANCE = 0.01;

/** Closure centres of pair frames as frames of segment `s` played `rate` times faster (nearest frame). */
export function segmentClosures(closures: readonly number[], s: { start: number; frames: number }, rate: number): number[] {
  const out: number[] = [];
  for (const c of closures) {
    const t = Math.round((c - s.start) / rate);
    if (c >= s.start && t < s.frames) out.push(t);
  }
  return out;
}

function melSlice(g: LandmarkGenerator, p: Prepared, start: number, frames: number): { mel: Float32Array; nMel: number } {
  const nMel = melFramesFor(g, frames);
  const from = start * MEL_PER_FRAME;
  return { mel: p.mel.subarray(from * MEL.bins, (from + nMel) * MEL.bins), nMel };
}

/**
 * Segment `s` played `rate` times faster: mel rows and target frames are read at fractional
 * positions of the clip (linear interpolation; log-mel rows, as a phase vocoder's output
 * would look), so mouth shapes stay on the sounds that make them. Past the clip's end the last
 * row / frame repeats (that is padded silence in every corpus).
 */
function speedWarp(g: LandmarkGenerator, p: Prepared, s: Segment, rate: number): { mel: Float32Array; nMel: number; target: Float32Array; frameWeight: Float32Array | null } {
  const nMel = melFramesFor(g, s.frames);
  const rows = p.mel.length / MEL.bins;
  const mel = new Float32Array(nMel * MEL.bins);
  const base = s.start * MEL_PER_FRAME;
  for (let r = 0; r < nMel; r++) {
    const src = Math.min(rows - 1, base + r * rate);
    const i0 = Math.floor(src);
    const i1 = Math.min(rows - 1, i0 + 1);
    const f = src - i0;
    for (let c = 0; c < MEL.bins; c++) mel[r * MEL.bins + c] = (1 - f) * p.mel[i0 * MEL.bins + c] + f * p.mel[i1 * MEL.bins + c];
  }
  const target = new Float32Array(s.frames * LANDMARK_DIM);
  // A closure's weight goes with its nearest source frame (a closure is not half-weighted).
  const frameWeight = p.frameWeight ? new Float32Array(s.frames) : null;
  for (let t = 0; t < s.frames; t++) {
    const src = Math.min(p.frames - 1, s.start + t * rate);
    const i0 = Math.floor(src);
    const i1 = Math.min(p.frames - 1, i0 + 1);
    const f = src - i0;
    for (let d = 0; d < LANDMARK_DIM; d++) target[t * LANDMARK_DIM + d] = (1 - f) * p.target[i0 * LANDMARK_DIM + d] + f * p.target[i1 * LANDMARK_DIM + d];
    if (frameWeight && p.frameWeight) frameWeight[t] = p.frameWeight[f < 0.5 ? i0 : i1];
  }
  return { mel, nMel, target, frameWeight };
}

/** The rest pose for `frames` frames in z-scored units: template-space tracks are offsets from the neutral face, so rest is 0. */
function restTarget(g: LandmarkGenerator, frames: number): Float32Array {
  const out = new Float32Array(frames * LANDMARK_DIM);
  for (let i = 0; i < out.length; i++) out[i] = (0 - g.outMean[i % LANDMARK_DIM]) / g.outScale[i % LANDMARK_DIM];
  return out;
}

/** One training segment as the model reads it, with its targets. */
export interface SegmentInput {
  mel: Float32Array;
  nMel: number;
  target: Float32Array;
  /** first target frame of the segment in `target` */
  t0: number;
  frameWeight: Float32Array | null;
  closures: number[];
  /**
   * normalised generator only: the augmented raw log-mel from the clip's first row through the
   * segment's last, what a live stream would have fed its normaliser; `mel` is its normalised tail
   */
  rawStream: Float32Array | null;
}

/**
 * Cuts, warps, replaces and augments segment `s` of `p`, drawing from `rng`. On raw features the
 * augmentations edit the segment itself. A normalised generator's normaliser has heard the clip
 * up to the segment, so every augmentation acts on the raw features before it, as a microphone
 * would deliver them: the warped or replaced segment follows the clip's raw frames before it,
 * the channel (reverberation, band, noise) and the gain apply to that whole stream, and the
 * online normaliser then runs over it from the clip's start, as the live stream does.
 */
export function segmentInput(g: LandmarkGenerator, p: Prepared, s: Segment, o: TrainOptions, rng: () => number): SegmentInput {
  const norm = g.featureNorm && g.featureNorm.kind === 'online-mvn' ? g.featureNorm : null;
  if (norm && !p.raw) throw new ConfigError('train: a normalised generator needs its clips\' raw features');
  const src: Prepared = norm && p.raw ? { ...p, mel: p.raw } : p;
  let { mel, nMel } = melSlice(g, src, s.start, s.frames);
  let target = p.target;
  let frameWeight = p.frameWeight;
  let t0 = s.start;
  let rate = 1;
  if (o.speed > 0) {
    rate = 1 + o.speed * (2 * rng() - 1);
    const warped = speedWarp(g, src, s, rate);
    mel = warped.mel;
    target = warped.target;
    frameWeight = warped.frameWeight;
    t0 = 0;
  }
  let closures = segmentClosures(p.closures, s, rate);
  // (with tones = 0 the random stream is the one earlier recipes drew: candidates reproduce)
  const u = o.nonSpeech > 0 || o.quietRoom > 0 || o.tones > 0 ? rng() : 1;
  if (u < o.nonSpeech + o.quietRoom + o.tones) {
    mel = u < o.nonSpeech ? nonSpeechMel(mel, nMel, rng) : u < o.nonSpeech + o.quietRoom ? quietRoomMel(mel, nMel, rng) : toneSequenceMel(mel, nMel, rng);
    target = restTarget(g, s.frames);
    frameWeight = null;
    closures = [];
    t0 = 0;
  }
  if (!norm || !p.raw) {
    if (o.augment.probability > 0) mel = augmentMel(mel, nMel, rng, o.augment);
    if (o.gainDb > 0) mel = applyGain(mel, (2 * rng() - 1) * o.gainDb);
    return { mel, nMel, target, t0, frameWeight, closures, rawStream: null };
  }
  const from = s.start * MEL_PER_FRAME * MEL.bins;
  let stream: Float32Array = new Float32Array(from + nMel * MEL.bins);
  stream.set(p.raw.subarray(0, from));
  stream.set(mel.subarray(0, nMel * MEL.bins), from);
  if (o.augment.probability > 0) stream = augmentMel(stream, stream.length / MEL.bins, rng, o.augment);
  if (o.gainDb > 0) stream = applyGain(stream, (2 * rng() - 1) * o.gainDb);
  return { mel: new OnlineMvn(norm).push(stream).subarray(from), nMel, target, t0, frameWeight, closures, rawStream: stream };
}

function cloneGenerator(g: LandmarkGenerator): LandmarkGenerator {
  return {
    ...g,
    featMean: Float32Array.from(g.featMean),
    featScale: Float32Array.from(g.featScale),
    outMean: Float32Array.from(g.outMean),
    outScale: Float32Array.from(g.outScale),
    layers: g.layers.map((l) => ({ ...l, weight: Float32Array.from(l.weight), bias: Float32Array.from(l.bias) })),
  };
}

/** Changes the input gain by `db` in the power domain (the log floor stays a floor). */
function applyGain(mel: Float32Array, db: number): Float32Array {
  const g = Math.pow(10, db / 10);
  const out = new Float32Array(mel.length);
  for (let i = 0; i < mel.length; i++) out[i] = Math.log(Math.max(0, Math.exp(mel[i]) - MEL.floor) * g + MEL.floor);
  return out;
}

/** What a resumed run must restore to continue bit-identically (generator-checkpoint.ts stores it). */
export interface GeneratorTrainingState {
  step: number;
  epoch: number;
  /** position of the next batch within the epoch's segment order (0: the epoch is not shuffled yet) */
  batchStart: number;
  /** the segments' order, indices into the unshuffled list */
  order: Int32Array;
  /** draws taken from the run's random stream */
  rngDraws: number;
  epochLoss: number;
  epochCount: number;
  lastLoss: number;
  /** weights and biases, layer by layer */
  params: Float32Array[];
  adam: AdamState;
  /** a digest of the data-derived normalisation and the run's shape: a checkpoint of other inputs is refused */
  fingerprint: string;
}

/**
 * One generator training run, a step at a time: `trainGenerator` runs it to the end, the
 * creation job (generator-resume.ts) checkpoints and resumes it between steps. Both take the
 * same steps in the same order, so they produce the same generator.
 */
export class GeneratorTraining {
  readonly generator: LandmarkGenerator;
  readonly options: TrainOptions;
  /** optimiser steps the whole run takes */
  readonly steps: number;
  private readonly data: Prepared[];
  private readonly segments: Segment[];
  private order: Int32Array;
  private readonly w: Float32Array;
  private readonly adam: Adam;
  private rng: () => number;
  private rngDraws = 0;
  private step = 0;
  private epoch = 0;
  private batchStart = 0;
  private epochLoss = 0;
  private epochCount = 0;
  private lastLoss = 0;

  constructor(pairs: TrainingPair[], options: Partial<TrainOptions> = {}) {
    const o: TrainOptions = { ...TRAIN_DEFAULTS, ...options };
    this.options = o;
    checkOptions(pairs, o);
    let g: LandmarkGenerator;
    if (o.init) {
      validateGenerator(o.init);
      if (o.init.space !== o.space) throw new ConfigError(`train.init: expected a ${o.space}-space generator, got ${o.init.space}`);
      g = cloneGenerator(o.init);
    } else {
      g = createGenerator({ channels: o.channels, lookAhead: 2 }, o.seed);
      g.space = o.space;
    }
    this.generator = g;
    this.data = prepareData(g, pairs, o);
    this.segments = [];
    this.data.forEach((p, pair) => {
      for (let s = 0; s < p.trainFrames; s += o.segmentFrames) this.segments.push({ pair, start: s, frames: Math.min(o.segmentFrames, p.trainFrames - s) });
    });
    this.order = Int32Array.from(this.segments, (_, i) => i);
    this.w = dimWeights(o.mouthWeight);
    this.adam = new Adam(this.params(), { lr: o.lr });
    this.rng = this.stream(0);
    const stepsPerEpoch = Math.ceil(this.segments.length / o.batch);
    this.steps = Math.min(o.maxSteps, stepsPerEpoch * o.epochs);
  }

  /** The run's random stream, fast-forwarded past `draws` draws (a resume replays the count, not the values). */
  private stream(draws: number): () => number {
    const base = makeRng(this.options.seed ^ 0x9e3779b9);
    for (let i = 0; i < draws; i++) base();
    this.rngDraws = draws;
    return () => {
      this.rngDraws++;
      return base();
    };
  }

  private params(): Float32Array[] {
    return this.generator.layers.flatMap((l) => [l.weight, l.bias]);
  }

  get stepsDone(): number {
    return this.step;
  }

  get done(): boolean {
    return this.step >= this.steps || this.epoch >= this.options.epochs;
  }

  /** Takes one optimiser step (shuffling first when an epoch starts). */
  next(): TrainProgress {
    if (this.done) throw new ConfigError(`train: the run is finished (${this.step} of ${this.steps} steps)`);
    const o = this.options;
    const g = this.generator;
    const rng = this.rng;
    const order = this.order;
    if (this.batchStart === 0) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      this.epochLoss = 0;
      this.epochCount = 0;
    }
    const batch = Array.from(order.subarray(this.batchStart, this.batchStart + o.batch), (i) => this.segments[i]);
    const norm = batch.reduce((a, s) => a + s.frames, 0) * LANDMARK_DIM;
    const grads = zeroGrads(g);
    let loss = 0;
    for (const s of batch) {
      const { mel, nMel, target, frameWeight: fw, closures, t0 } = segmentInput(g, this.data[s.pair], s, o, rng);
      const a = forwardTrain(g, mel, nMel);
      const z = a.acts[a.acts.length - 1];
      const dz = new Float32Array(z.length);
      loss += mseLoss(z, target, t0, s.frames, this.w, norm, dz, fw);
      if (closures.length > 0 && o.closureLoss === 'best') loss += closureBestLoss(z, target, t0, s.frames, closures, o.closureRadius, (o.closureWeight - 1) * (2 * o.closureRadius + 1), this.w, norm, dz);
      if (closures.length > 0 && o.closureLoss === 'hold') loss += closureHoldLoss(z, target, t0, s.frames, closures, o.closureRadius, o.closureWeight - 1, this.w, norm, dz);
      if (o.stillWeight > 0) loss += stillnessLoss(z, restFrames(target, t0, s.frames, g.outMean, g.outScale, STILL_TOLERANCE), s.frames, o.stillWeight, this.w, norm, dz);
      backwardTrain(g, a, dz, grads);
    }
    const lr = o.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * this.step) / this.steps)));
    this.adam.update(grads.flatMap((x) => [x.weight, x.bias]), lr);
    this.step++;
    this.epochLoss += loss;
    this.epochCount++;
    this.lastLoss = this.epochLoss / this.epochCount;
    const progress = { epoch: this.epoch, epochs: o.epochs, step: this.step, steps: this.steps, loss: this.lastLoss };
    this.batchStart += o.batch;
    if (this.batchStart >= order.length) {
      this.batchStart = 0;
      this.epoch++;
    }
    return progress;
  }

  /** The generator as trained so far, with its held-out loss. */
  result(): TrainResult {
    return { generator: this.generator, trainLoss: this.lastLoss, validationLoss: validationLoss(this.generator, this.data, this.w), steps: this.step };
  }

  state(): GeneratorTrainingState {
    return {
      step: this.step,
      epoch: this.epoch,
      batchStart: this.batchStart,
      order: this.order.slice(),
      rngDraws: this.rngDraws,
      epochLoss: this.epochLoss,
      epochCount: this.epochCount,
      lastLoss: this.lastLoss,
      params: this.params().map((p) => p.slice()),
      adam: this.adam.state(),
      fingerprint: this.fingerprint(),
    };
  }

  /** Continues from `s` (a state of a run on the same inputs and options); refuses any other. */
  restore(s: GeneratorTrainingState, field = 'the generator checkpoint'): void {
    if (s.fingerprint !== this.fingerprint()) throw new ConfigError(`${field}: made from another recording or with other settings; delete it to start the generator again`);
    const params = this.params();
    const okOrder = s.order.length === this.order.length && new Set(s.order).size === s.order.length && s.order.every((i) => i >= 0 && i < this.order.length);
    const okParams = s.params.length === params.length && s.params.every((p, i) => p.length === params[i].length);
    if (!okOrder || !okParams || !(s.step <= this.steps && s.batchStart < this.order.length && s.rngDraws <= 1e9)) throw new ConfigError(`${field}: inconsistent with this run (segments, weights or step out of range)`);
    params.forEach((p, i) => p.set(s.params[i]));
    this.adam.restore(s.adam);
    this.order = s.order.slice();
    this.rng = this.stream(s.rngDraws);
    this.step = s.step;
    this.epoch = s.epoch;
    this.batchStart = s.batchStart;
    this.epochLoss = s.epochLoss;
    this.epochCount = s.epochCount;
    this.lastLoss = s.lastLoss;
  }

  private fingerprint(): string {
    const g = this.generator;
    let h = 0x811c9dc5;
    const mix = (v: number) => {
      h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    };
    for (const a of [g.featMean, g.featScale, g.outMean, g.outScale]) for (const v of new Uint32Array(Float32Array.from(a).buffer)) mix(v);
    const o = this.options;
    for (const v of [this.steps, this.segments.length, o.seed, o.batch, o.segmentFrames, ...g.layers.map((l) => l.weight.length)]) mix(v);
    // Only normalised runs mix it in, so raw-feature checkpoints keep their fingerprints.
    if (g.featureNorm && g.featureNorm.kind !== 'none') for (const ch of JSON.stringify(g.featureNorm)) mix(ch.charCodeAt(0));
    return h.toString(16).padStart(8, '0');
  }
}

export function trainGenerator(pairs: TrainingPair[], options: Partial<TrainOptions> = {}): TrainResult {
  const run = new GeneratorTraining(pairs, options);
  while (!run.done) {
    const p = run.next();
    run.options.onProgress?.(p);
  }
  return run.result();
}

function checkOptions(pairs: TrainingPair[], o: TrainOptions): void {
  if (pairs.length === 0) throw new ConfigError('train.pairs: expected at least one (audio, landmarks) pair');
  if (!Number.isInteger(o.epochs) || o.epochs < 1 || o.epochs > 10_000) throw new ConfigError(`train.epochs: expected 1..10000, got ${o.epochs}`);
  if (!Number.isInteger(o.segmentFrames) || o.segmentFrames < 1 || o.segmentFrames > 1000) throw new ConfigError(`train.segmentFrames: expected 1..1000, got ${o.segmentFrames}`);
  if (!Number.isInteger(o.batch) || o.batch < 1 || o.batch > 256) throw new ConfigError(`train.batch: expected 1..256, got ${o.batch}`);
  if (!(o.validationFraction >= 0 && o.validationFraction <= 0.5)) throw new ConfigError(`train.validationFraction: expected 0..0.5, got ${o.validationFraction}`);
  if (!(o.speed >= 0 && o.speed <= 0.5)) throw new ConfigError(`train.speed: expected 0..0.5, got ${o.speed}`);
  checkAugment(o.augment);
  if (!(o.closureWeight >= 1 && o.closureWeight <= 100)) throw new ConfigError(`train.closureWeight: expected 1..100, got ${o.closureWeight}`);
  if (!Number.isInteger(o.closureRadius) || o.closureRadius < 0 || o.closureRadius > 5) throw new ConfigError(`train.closureRadius: expected an integer 0..5, got ${o.closureRadius}`);
  if (o.closureLoss !== 'frames' && o.closureLoss !== 'best' && o.closureLoss !== 'hold') throw new ConfigError(`train.closureLoss: expected "frames", "best" or "hold", got ${JSON.stringify(o.closureLoss)}`);
  if (!(o.stillWeight >= 0 && o.stillWeight <= 100)) throw new ConfigError(`train.stillWeight: expected 0..100, got ${o.stillWeight}`);
  if (o.stillWeight > 0 && o.space !== 'template') throw new ConfigError('train.stillWeight: needs space "template" (the rest pose is the zero offset there)');
  if (!(o.nonSpeech >= 0 && o.nonSpeech <= 0.5)) throw new ConfigError(`train.nonSpeech: expected 0..0.5, got ${o.nonSpeech}`);
  // Only template space knows its rest pose (zero offsets); an avatar's own rest is not given.
  if (!(o.quietRoom >= 0 && o.quietRoom <= 0.5 && o.nonSpeech + o.quietRoom <= 0.5)) throw new ConfigError(`train.quietRoom: expected 0..0.5 with nonSpeech + quietRoom <= 0.5, got ${o.quietRoom}`);
  if (o.quietRoom > 0 && o.space !== 'template') throw new ConfigError('train.quietRoom: needs space "template" (the rest pose is the zero offset there)');
  if (!(o.tones >= 0 && o.tones <= 0.5 && o.nonSpeech + o.quietRoom + o.tones <= 0.5)) throw new ConfigError(`train.tones: expected 0..0.5 with nonSpeech + quietRoom + tones <= 0.5, got ${o.tones}`);
  if (o.tones > 0 && o.space !== 'template') throw new ConfigError('train.tones: needs space "template" (the rest pose is the zero offset there)');
  if (o.nonSpeech > 0 && o.space !== 'template') throw new ConfigError('train.nonSpeech: needs space "template" (the rest pose is the zero offset there)');
  if (o.featureNorm !== null) {
    const f = o.featureNorm;
    if (!(f.tau >= 0.1 && f.tau <= 600)) throw new ConfigError(`train.featureNorm.tau: expected 0.1..600 s, got ${f.tau}`);
    if (!(f.priorSeconds >= 0 && f.priorSeconds <= 600)) throw new ConfigError(`train.featureNorm.priorSeconds: expected 0..600 s, got ${f.priorSeconds}`);
    if (f.quietFloor !== undefined && !(f.quietFloor >= 0.1 && f.quietFloor <= 20)) throw new ConfigError(`train.featureNorm.quietFloor: expected 0.1..20 standard deviations, got ${f.quietFloor}`);
  }
}

/** Features and z-scored targets of every pair; sets the generator's normalisation (unless fine-tuning). */
export function prepareData(g: LandmarkGenerator, pairs: TrainingPair[], o: TrainOptions): Prepared[] {
  const start = melStart(g);
  // Features and raw targets; the track and the audio may differ by a frame or two.
  let total = 0;
  const raw = pairs.map((p, i) => {
    if (p.landmarks.length !== p.frames * LANDMARK_DIM) throw new ConfigError(`train.pairs[${i}].landmarks: expected ${p.frames}x${LANDMARK_DIM} values, got ${p.landmarks.length}`);
    const frames = Math.min(p.frames, framesForSamples(resampledLength(p.pcm.length, p.sampleRate)));
    if (frames < 1) throw new ConfigError(`train.pairs[${i}]: no frames shared by the audio and the track`);
    total += frames;
    if (total > MAX_TOTAL_FRAMES) throw new ConfigError(`train.pairs: expected at most ${MAX_TOTAL_FRAMES} frames in all`);
    const rows = melFramesFor(g, frames);
    if (p.mel && p.mel.length !== rows * MEL.bins) throw new ConfigError(`train.pairs[${i}].mel: expected ${rows}x${MEL.bins} precomputed features, got ${p.mel.length} values`);
    const mel = p.mel ?? audioToMel(p.pcm, p.sampleRate, start, start + rows);
    const trainFrames = frames >= 20 ? Math.max(1, Math.floor(frames * (1 - o.validationFraction))) : frames;
    if (p.closureFrames !== undefined && !(Array.isArray(p.closureFrames) && p.closureFrames.every((f) => Number.isInteger(f) && f >= 0 && f < frames))) {
      throw new ConfigError(`train.pairs[${i}].closureFrames: expected frame indices in 0..${frames - 1}`);
    }
    const weighted = o.closureWeight !== 1 && p.closureFrames?.length;
    const frameWeight = weighted && o.closureLoss === 'frames' ? closureFrameWeights(frames, p.closureFrames ?? [], o.closureWeight, o.closureRadius) : null;
    const closures = weighted && o.closureLoss !== 'frames' ? [...(p.closureFrames ?? [])].sort((x, y) => x - y) : [];
    return { mel, landmarks: p.landmarks, frames, trainFrames, frameWeight, closures };
  });
  if (o.featureNorm) {
    // The prior: statistics of the training part's raw features, as the live stream starts from it.
    const rows = raw.map((r) => r.mel.subarray(0, melFramesFor(g, r.trainFrames) * MEL.bins));
    const all = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
    rows.reduce((at, r) => (all.set(r, at), at + r.length), 0);
    const prior = priorFromFrames(all, DEFAULT_GATE);
    const wasRaw = !g.featureNorm || g.featureNorm.kind === 'none';
    const floor = o.featureNorm.quietFloor;
    g.featureNorm = { kind: 'online-mvn', tau: o.featureNorm.tau, priorSeconds: o.featureNorm.priorSeconds, gate: DEFAULT_GATE, ...prior, ...(floor === undefined ? {} : { quietFloor: floor }) };
    if (o.init && wasRaw) {
      g.featMean.fill(0);
      g.featScale.fill(1);
    }
  }
  // Each clip normalised from its first frame (melStart), exactly as the live stream does.
  const norm = g.featureNorm;
  const rawMel = raw.map((r) => (norm && norm.kind === 'online-mvn' ? r.mel : null));
  if (norm && norm.kind === 'online-mvn') for (const r of raw) r.mel = new OnlineMvn(norm).push(r.mel);

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
  for (let c = 0; c < MEL.bins && !o.init; c++) {
    const m = fSum[c] / nf;
    g.featMean[c] = m;
    g.featScale[c] = 1 / Math.max(0.5, Math.sqrt(Math.max(0, fSq[c] / nf - m * m)));
  }
  for (let d = 0; d < LANDMARK_DIM && !o.init; d++) {
    const m = ySum[d] / ny;
    g.outMean[d] = m;
    g.outScale[d] = Math.max(1e-4, Math.sqrt(Math.max(0, ySq[d] / ny - m * m)));
  }
  return raw.map((r, i) => {
    const target = new Float32Array(r.frames * LANDMARK_DIM);
    for (let i = 0; i < target.length; i++) target[i] = (r.landmarks[i] - g.outMean[i % LANDMARK_DIM]) / g.outScale[i % LANDMARK_DIM];
    return { mel: r.mel, raw: rawMel[i], target, frameWeight: r.frameWeight, closures: r.closures, frames: r.frames, trainFrames: r.trainFrames };
  });
}

function validationLoss(g: LandmarkGenerator, data: Prepared[], w: Float32Array): number | null {
  let loss = 0;
  let n = 0;
  for (const p of data) {
    const frames = p.frames - p.trainFrames;
    if (frames <= 0) continue;
    const { mel, nMel } = melSlice(g, p, p.trainFrames, frames);
    const a = forwardTrain(g, mel, nMel);
    loss += mseLoss(a.acts[a.acts.length - 1], p.target, p.trainFrames, frames, w, 1, null);
    n += frames * LANDMARK_DIM;
  }
  return n > 0 ? loss / n : null;
}
