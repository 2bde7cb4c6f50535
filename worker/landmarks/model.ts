/**
 * The landmark generator: log-mel frames (100 Hz, 80 bins) -> 68x3 landmarks at 25 fps.
 *
 * Architecture (valid convolutions, so each output frame is a pure function of a fixed
 * window of mel frames):
 *   normalise features (x - featMean) * featScale
 *   conv 80->C, kernel 4, stride 4, ReLU     (stacks 40 ms of mel frames: now at 25 fps)
 *   conv C->C,  kernel 3, dilation 1, ReLU
 *   conv C->C,  kernel 3, dilation 2, ReLU
 *   conv C->C,  kernel 3, dilation 4, ReLU
 *   conv C->204, kernel 1
 *   y = z * outScale + outMean
 * Receptive field: 15 output-rate frames = 60 mel frames. The window is placed so that
 * landmark frame t (time 40t ms) sees mel frames 4t-50 .. 4t+9, i.e. audio up to
 * 40(t+2) ms + 22.5 ms: the spec's 2 frames of look-ahead plus 22.5 ms of analysis window.
 */
import { mulberry32 } from '../util/random.ts';
import { ConfigError } from '../errors.ts';
import { MEL } from '../audio/mel.ts';
import { validateFeatureNorm, type FeatureNorm } from '../audio/online-norm.ts';
import { convForward, convOutLength, type ConvLayer } from './conv.ts';

export const LANDMARK_FPS = 25;
export const NUM_LANDMARKS = 68;
export const LANDMARK_DIM = NUM_LANDMARKS * 3;
/** mel frames per landmark frame */
export const MEL_PER_FRAME = MEL.rate / LANDMARK_FPS;
/** 16 kHz samples per landmark frame */
export const SAMPLES_PER_FRAME = MEL.sampleRate / LANDMARK_FPS;

/**
 * `avatar`: outputs are already in one avatar's landmark space (person-specific generator).
 * `template`: outputs are in the synthetic template's space; retarget them with the avatar's
 * landmark statistics (see retarget.ts).
 */
export type LandmarkSpace = 'avatar' | 'template';

export interface LandmarkGenerator {
  /** [80] */
  featMean: Float32Array;
  /** [80], multiplies (x - featMean) */
  featScale: Float32Array;
  layers: ConvLayer[];
  /** [204] */
  outMean: Float32Array;
  /** [204] */
  outScale: Float32Array;
  /** landmark frames of look-ahead (2 = the spec's window) */
  lookAhead: number;
  space: LandmarkSpace;
  /**
   * normalisation of the log-mel frames before featMean/featScale (online-norm.ts); absent
   * or "none": raw log-mel, as every model trained before it
   */
  featureNorm?: FeatureNorm;
}

export interface GeneratorArch {
  channels: number;
  lookAhead: number;
}

export const DEFAULT_ARCH: GeneratorArch = { channels: 128, lookAhead: 2 };

/** Seeded PRNG so initialisation is reproducible (see worker/util/random.ts). */
export const makeRng = mulberry32;

export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** The layer shapes of the architecture, without weights. */
export function layerShapes(channels: number): Omit<ConvLayer, 'weight' | 'bias'>[] {
  const C = channels;
  return [
    { name: 'conv0', cin: MEL.bins, cout: C, kernel: MEL_PER_FRAME, dilation: 1, stride: MEL_PER_FRAME, relu: true },
    { name: 'conv1', cin: C, cout: C, kernel: 3, dilation: 1, stride: 1, relu: true },
    { name: 'conv2', cin: C, cout: C, kernel: 3, dilation: 2, stride: 1, relu: true },
    { name: 'conv3', cin: C, cout: C, kernel: 3, dilation: 4, stride: 1, relu: true },
    { name: 'head', cin: C, cout: LANDMARK_DIM, kernel: 1, dilation: 1, stride: 1, relu: false },
  ];
}

/** He-initialised generator with identity normalisation. */
export function createGenerator(arch: GeneratorArch = DEFAULT_ARCH, seed = 1): LandmarkGenerator {
  if (!Number.isInteger(arch.channels) || arch.channels < 1 || arch.channels > 512) {
    throw new ConfigError(`generator.channels: expected an integer in [1, 512], got ${arch.channels}`);
  }
  const rng = makeRng(seed);
  const layers = layerShapes(arch.channels).map((s): ConvLayer => {
    const fanIn = s.cin * s.kernel;
    const std = (s.relu ? Math.sqrt(2 / fanIn) : Math.sqrt(1 / fanIn)) * (s.relu ? 1 : 0.1);
    const weight = new Float32Array(s.cout * s.kernel * s.cin);
    for (let i = 0; i < weight.length; i++) weight[i] = gaussian(rng) * std;
    return { ...s, weight, bias: new Float32Array(s.cout) };
  });
  const generator: LandmarkGenerator = {
    featMean: new Float32Array(MEL.bins),
    featScale: new Float32Array(MEL.bins).fill(1),
    layers,
    outMean: new Float32Array(LANDMARK_DIM),
    outScale: new Float32Array(LANDMARK_DIM).fill(1),
    lookAhead: arch.lookAhead,
    space: 'avatar',
  };
  validateGenerator(generator);
  return generator;
}

/** Mel frames one output frame depends on. */
export function receptiveField(g: Pick<LandmarkGenerator, 'layers'>): number {
  let span = 1;
  for (let i = g.layers.length - 1; i >= 0; i--) {
    const l = g.layers[i];
    span = (span - 1) * l.stride + l.dilation * (l.kernel - 1) + 1;
  }
  return span;
}

/** Index of the first mel frame landmark frame 0 depends on (negative: before the audio). */
export function melStart(g: Pick<LandmarkGenerator, 'layers' | 'lookAhead'>): number {
  // The last mel frame of frame t is 4(t + lookAhead) + 1: the one whose window ends
  // 22.5 ms after the look-ahead frame's centre, as conv0 groups mel frames 4u-2..4u+1.
  return MEL_PER_FRAME * g.lookAhead + 2 - receptiveField(g);
}

/** Mel frames needed for `frames` output frames. */
export function melFramesFor(g: Pick<LandmarkGenerator, 'layers'>, frames: number): number {
  return frames <= 0 ? 0 : (frames - 1) * MEL_PER_FRAME + receptiveField(g);
}

/** Checks the generator is the supported architecture with consistent shapes. */
export function validateGenerator(g: LandmarkGenerator): void {
  const fail = (field: string, msg: string) => {
    throw new ConfigError(`generator.${field}: ${msg}`);
  };
  if (g.featMean.length !== MEL.bins || g.featScale.length !== MEL.bins) fail('featMean', `expected ${MEL.bins} values`);
  if (g.outMean.length !== LANDMARK_DIM || g.outScale.length !== LANDMARK_DIM) fail('outMean', `expected ${LANDMARK_DIM} values`);
  if (!Number.isInteger(g.lookAhead) || g.lookAhead < 0 || g.lookAhead > 2) fail('lookAhead', `expected 0..2 frames, got ${g.lookAhead}`);
  if (g.space !== 'avatar' && g.space !== 'template') fail('space', `expected "avatar" or "template", got ${JSON.stringify(g.space)}`);
  const C = g.layers[0]?.cout ?? 0;
  const shapes = layerShapes(C);
  if (g.layers.length !== shapes.length) fail('layers', `expected ${shapes.length} layers, got ${g.layers.length}`);
  for (let i = 0; i < shapes.length; i++) {
    const s = shapes[i];
    const l = g.layers[i];
    for (const k of ['cin', 'cout', 'kernel', 'dilation', 'stride', 'relu'] as const) {
      if (l[k] !== s[k]) fail(`layers[${i}].${k}`, `expected ${s[k]}, got ${l[k]}`);
    }
    if (l.weight.length !== s.cout * s.kernel * s.cin) fail(`layers[${i}].weight`, `expected ${s.cout * s.kernel * s.cin} values, got ${l.weight.length}`);
    if (l.bias.length !== s.cout) fail(`layers[${i}].bias`, `expected ${s.cout} values, got ${l.bias.length}`);
  }
  if (melStart(g) > 0) fail('lookAhead', 'window starts after the frame');
  if (g.featureNorm !== undefined) validateFeatureNorm(g.featureNorm, 'generator.featureNorm');
}

/**
 * TypeScript forward pass: mel [nMel][80] (starting at the frame's window start) ->
 * landmarks [T][204] with T = (nMel - receptiveField)/4 + 1.
 */
export function forwardGenerator(g: LandmarkGenerator, mel: Float32Array, nMel: number): { frames: number; landmarks: Float32Array } {
  if (mel.length < nMel * MEL.bins) throw new ConfigError(`generator.input: expected ${nMel * MEL.bins} values, got ${mel.length}`);
  let x: Float32Array = new Float32Array(nMel * MEL.bins);
  for (let t = 0; t < nMel; t++) {
    for (let c = 0; c < MEL.bins; c++) x[t * MEL.bins + c] = (mel[t * MEL.bins + c] - g.featMean[c]) * g.featScale[c];
  }
  let tlen = nMel;
  for (const layer of g.layers) {
    x = convForward(layer, x, tlen);
    tlen = convOutLength(layer, tlen);
  }
  for (let t = 0; t < tlen; t++) {
    for (let d = 0; d < LANDMARK_DIM; d++) x[t * LANDMARK_DIM + d] = x[t * LANDMARK_DIM + d] * g.outScale[d] + g.outMean[d];
  }
  return { frames: tlen, landmarks: x };
}
