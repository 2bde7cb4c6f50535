/**
 * Official R2-Talker checkpoint (+ transforms, background, optional landmark track) -> Avatar.
 *
 * The model configuration is inferred from the checkpoint itself: table sizes from each
 * encoder's `offsets` (never assumed 2^16), the eye input from sigma_net's first layer, the
 * torso from the presence of its tensors, the aabb from `aabb_infer`. Every tensor is then
 * checked against `expectedTensors(config)`.
 */
import { landmarkStatistics as trackStatistics } from '../model/landmarks.ts';
import { ConfigError, FormatError } from '../errors.ts';
import { LIMITS, expectedTensors, officialConfig, validateModelConfig, type ModelConfig, type TensorSpec } from '../avatar/config.ts';
import type { Avatar, LandmarkStats, Tensor } from '../avatar/types.ts';
import { float16BitsToFloat32 } from '../avatar/tensor.ts';
import { readTorchCheckpoint, type RawTensor, type TorchCheckpoint } from './checkpoint.ts';
import { parseTransforms } from './transforms.ts';
import { resizeArea } from '../io/resize.ts';

export interface ImportInputs {
  checkpoint: Uint8Array;
  /** Parsed transforms_val.json / transforms_train.json. */
  transforms: unknown;
  background: { width: number; height: number; rgb: Uint8Array };
  /** A [T,68,3] landmark track whose statistics the avatar should carry. */
  landmarks?: Float32Array;
  name?: string;
}

export interface ImportOptions {
  onProgress?: (done: number, total: number, stage: string) => void;
}

/** Model tensors the avatar does not carry; their shapes are still checked, bytes never read. */
const UNUSED = new Set(['density_grid', 'step_counter', 'aabb_train']);
const TORSO_KEYS = ['torso_encoder.embeddings', 'torso_encoder.offsets', 'torso_deform_net.net.0.weight', 'torso_net.net.0.weight', 'individual_codes_torso', 'density_grid_torso'];
/** Avatar tensor name -> checkpoint key, where they differ (the avatar keeps row 0 only). */
const ROW0: Record<string, string> = { individual_code: 'individual_codes', individual_code_torso: 'individual_codes_torso' };

const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function need(ck: TorchCheckpoint, key: string, expected: string): RawTensor {
  const t = ck.model.get(key);
  if (!t) throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, `a tensor of shape ${expected}`, 'no such key');
  return t;
}

function shapeOf(ck: TorchCheckpoint, key: string, expected: string): number[] {
  const t = ck.index.get(key);
  if (!t) throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, `a tensor of shape ${expected}`, 'no such key');
  return t.shape;
}

function expectShape(key: string, actual: readonly number[], expected: readonly number[]): void {
  if (!sameShape(actual, expected)) throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, `shape ${shapeStr(expected)}`, shapeStr(actual));
}

/** float32/float16/bfloat16/float64 -> float32, refusing other dtypes and non-finite values. */
function asFloat32(key: string, t: RawTensor): Float32Array {
  let out: Float32Array;
  switch (t.dtype) {
    case 'float32':
      out = t.data as Float32Array;
      break;
    case 'float16':
      out = float16BitsToFloat32(t.data as Uint16Array);
      break;
    case 'bfloat16': {
      const bits = new Uint32Array((t.data as Uint16Array).length);
      (t.data as Uint16Array).forEach((b, i) => (bits[i] = b << 16));
      out = new Float32Array(bits.buffer);
      break;
    }
    case 'float64':
      out = Float32Array.from(t.data as Float64Array);
      break;
    default:
      throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, 'dtype float32, float16 or float64', t.dtype);
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw FormatError.checkpoint(`model.${key}`, `element ${i} is ${out[i]} (expected finite values)`);
  }
  return out;
}

function readOffsets(ck: TorchCheckpoint, key: string, levels: number): number[] {
  const t = need(ck, key, `[${levels + 1}]`);
  expectShape(key, t.shape, [levels + 1]);
  if (t.dtype !== 'int32' && t.dtype !== 'int64') throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, 'dtype int32 or int64', t.dtype);
  const data = t.data as Int32Array | BigInt64Array;
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) out.push(Number(data[i]));
  return out;
}

/** Builds the ModelConfig the checkpoint was trained with. */
export function inferConfig(ck: TorchCheckpoint): ModelConfig {
  const base = officialConfig();
  const sigma0 = shapeOf(ck, 'sigma_net.net.0.weight', '[64,65] or [64,64]');
  const gridOut = base.head.grid.levels * base.head.grid.featuresPerLevel;
  let eyeInput: boolean;
  if (sameShape(sigma0, [base.head.hiddenDim, gridOut + 1])) eyeInput = true;
  else if (sameShape(sigma0, [base.head.hiddenDim, gridOut])) eyeInput = false;
  else {
    const h = base.head.hiddenDim;
    throw FormatError.expected('CHECKPOINT_FORMAT', 'model.sigma_net.net.0.weight', `shape [${h},${gridOut + 1}] or [${h},${gridOut}]`, shapeStr(sigma0));
  }
  const torso = TORSO_KEYS.some((k) => ck.index.has(k));
  const aabbT = need(ck, 'aabb_infer', '[6]');
  expectShape('aabb_infer', aabbT.shape, [6]);
  const aabb = Array.from(asFloat32('aabb_infer', aabbT));
  const cfg = officialConfig({ eyeInput, torso, aabb });
  cfg.head.grid.offsets = readOffsets(ck, 'encoder.offsets', cfg.head.grid.levels);
  cfg.condition.grid.offsets = readOffsets(ck, 'encoder_idexp_lm3d.offsets', cfg.condition.grid.levels);
  if (cfg.torso) cfg.torso.grid.offsets = readOffsets(ck, 'torso_encoder.offsets', cfg.torso.grid.levels);
  try {
    validateModelConfig(cfg);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = /^model\.(head|condition|torso)\.grid\.offsets/.exec(e.message);
    const key = field ? { head: 'encoder.offsets', condition: 'encoder_idexp_lm3d.offsets', torso: 'torso_encoder.offsets' }[field[1] as 'head'] : 'aabb_infer';
    throw FormatError.checkpoint(`model.${key}`, e.message, e);
  }
  return cfg;
}

function importTensor(ck: TorchCheckpoint, spec: TensorSpec): Tensor {
  const key = ROW0[spec.name] ?? spec.name;
  if (ROW0[spec.name]) {
    const t = need(ck, key, `[N,${spec.shape[0]}]`);
    if (t.shape.length !== 2 || t.shape[0] < 1 || t.shape[1] !== spec.shape[0]) {
      throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, `shape [N,${spec.shape[0]}] with N >= 1`, shapeStr(t.shape));
    }
    const row = asFloat32(key, t).slice(0, spec.shape[0]);
    return { name: spec.name, dtype: 'float32', shape: spec.shape.slice(), data: row };
  }
  const t = need(ck, key, shapeStr(spec.shape));
  expectShape(key, t.shape, spec.shape);
  if (spec.dtypes.includes('float32')) {
    const data = asFloat32(key, t);
    return { name: spec.name, dtype: 'float32', shape: spec.shape.slice(), data };
  }
  if (t.dtype !== 'uint8') throw FormatError.expected('CHECKPOINT_FORMAT', `model.${key}`, 'dtype uint8', t.dtype);
  return { name: spec.name, dtype: 'uint8', shape: spec.shape.slice(), data: t.data as Uint8Array };
}

/** Per-number mean and unbiased std over the frames of a [T, numLandmarks, 3] track. */
export function landmarkStatistics(track: Float32Array, numLandmarks: number): LandmarkStats {
  const width = numLandmarks * 3;
  if (!(track instanceof Float32Array) || track.length === 0 || track.length % width !== 0) {
    throw FormatError.expected('INPUT_FORMAT', 'landmarks', `a Float32Array of T*${numLandmarks}*3 values`, track instanceof Float32Array ? `${track.length} values` : typeof track);
  }
  const frames = track.length / width;
  if (frames < 2) throw FormatError.expected('INPUT_FORMAT', 'landmarks', 'at least 2 frames (unbiased std)', `${frames}`);
  if (frames > LIMITS.maxPoses) throw FormatError.expected('INPUT_FORMAT', 'landmarks', `at most ${LIMITS.maxPoses} frames`, `${frames}`);
  for (let i = 0; i < track.length; i++) {
    if (!Number.isFinite(track[i])) throw FormatError.input('landmarks', `value ${i} is ${track[i]} (expected finite values)`);
  }
  return { ...trackStatistics(track, frames, width), frames };
}

function backgroundTensor(bg: ImportInputs['background'], width: number, height: number): Tensor {
  if (!bg || typeof bg !== 'object' || !(bg.rgb instanceof Uint8Array)) throw FormatError.expected('INPUT_FORMAT', 'background', '{ width, height, rgb: Uint8Array }', typeof bg);
  const rgb = resizeArea(bg.rgb, bg.width, bg.height, width, height, 3);
  return { name: 'background', dtype: 'uint8', shape: [height, width, 3], data: rgb === bg.rgb ? rgb.slice() : rgb };
}

function stepper(opts: ImportOptions): (stage: string, done?: number, total?: number) => void {
  return (stage, done = 1, total = 1) => opts.onProgress?.(done, total, stage);
}

/** Imports an official checkpoint. Throws FormatError ('CHECKPOINT_FORMAT' or 'INPUT_FORMAT'). */
export function importCheckpoint(inputs: ImportInputs, opts: ImportOptions = {}): Avatar {
  const progress = stepper(opts);
  if (!inputs || typeof inputs !== 'object') throw FormatError.input('inputs', 'expected an object');
  // Transforms first: they are cheap, and a wrong file should fail before 40 MB are parsed.
  const subject = parseTransforms(inputs.transforms);
  progress('transforms');
  const ck = readTorchCheckpoint(inputs.checkpoint, {
    include: (k) => !UNUSED.has(k),
    onProgress: (done, total) => progress('tensors', done, total),
  });
  return avatarFromCheckpoint(ck, subject, inputs, progress);
}

function avatarFromCheckpoint(ck: TorchCheckpoint, subject: ReturnType<typeof parseTransforms>, inputs: ImportInputs, progress: (stage: string, done?: number, total?: number) => void): Avatar {
  const config = inferConfig(ck);
  const R = config.march.gridResolution;
  if (ck.index.has('density_grid')) expectShape('density_grid', shapeOf(ck, 'density_grid', ''), [1, R * R * R]);
  progress('config');
  const tensors = new Map<string, Tensor>();
  const specs = expectedTensors(config);
  specs.forEach((spec, i) => {
    tensors.set(spec.name, importTensor(ck, spec));
    progress('validate', i + 1, specs.length);
  });
  const { camera, poses, frames, eye } = subject;
  tensors.set('poses', { name: 'poses', dtype: 'float32', shape: [frames, 4, 4], data: poses });
  if (eye) tensors.set('eye', { name: 'eye', dtype: 'float32', shape: [frames], data: eye });
  tensors.set('background', backgroundTensor(inputs.background, camera.width, camera.height));
  progress('background');
  let landmarkStats: LandmarkStats | null = null;
  if (inputs.landmarks !== undefined) {
    landmarkStats = landmarkStatistics(inputs.landmarks, config.condition.numLandmarks);
    const n = config.condition.numLandmarks * 3;
    tensors.set('landmark_mean', { name: 'landmark_mean', dtype: 'float32', shape: [n], data: landmarkStats.mean });
    tensors.set('landmark_std', { name: 'landmark_std', dtype: 'float32', shape: [n], data: landmarkStats.std });
    progress('landmarks');
  }
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    name: typeof inputs.name === 'string' && inputs.name.length > 0 ? inputs.name.slice(0, 256) : ck.root,
    config,
    camera,
    tensors,
    landmarkStats,
    generator: null,
    provenance: {
      source: 'import',
      checkpoint: ck.root,
      epoch: num(ck.top.epoch),
      global_step: num(ck.top.global_step),
      full_save: 'optimizer' in ck.top,
    },
  };
}

/** For tests and tools that already hold a parsed checkpoint (e.g. to check a modified one). */
export function importParsedCheckpoint(ck: TorchCheckpoint, inputs: Omit<ImportInputs, 'checkpoint'>, opts: ImportOptions = {}): Avatar {
  return avatarFromCheckpoint(ck, parseTransforms(inputs.transforms), { ...inputs, checkpoint: new Uint8Array(0) }, stepper(opts));
}
