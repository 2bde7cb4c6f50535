/**
 * The .r2t header schema and the rules every avatar file obeys. The reader and the writer
 * both run these checks, so the writer can never produce a file the reader rejects.
 */
import { strFromU8 } from 'fflate';
import { ConfigError, FormatError } from '../errors.ts';
import { LIMITS, expectedTensors, validateCamera, validateModelConfig, type CameraConfig, type DType, type ModelConfig } from './config.ts';
import { firstNonFinite, formatShape, isDType, tensorByteLength } from './tensor.ts';
import { AVATAR_FORMAT, AVATAR_FORMAT_VERSION, type Provenance, type TensorData } from './types.ts';

export const MIMETYPE = 'application/x-r2talker-avatar';
export const MIMETYPE_ENTRY = 'mimetype';
export const HEADER_ENTRY = 'header.json';
export const GENERATOR_ENTRY = 'generator.onnx';

export const FORMAT_LIMITS = {
  maxHeaderBytes: 4 << 20,
  maxEntries: 1024,
  maxEntryNameBytes: 256,
  maxTensors: 256,
  maxGeneratorBytes: 512 << 20,
  maxNameChars: 256,
  maxProvenanceKeys: 64,
  maxProvenanceStringChars: 4096,
  maxStatsFrames: 1e9,
} as const;

/** One tensor as the header lists it. */
export interface HeaderTensor {
  name: string;
  dtype: DType;
  shape: number[];
  entry: string;
}

export interface AvatarHeader {
  format: typeof AVATAR_FORMAT;
  version: number;
  name: string;
  config: ModelConfig;
  camera: CameraConfig;
  tensors: HeaderTensor[];
  landmarkStats: { frames: number } | null;
  generator: { entry: string; bytes: number } | null;
  provenance: Provenance;
}

export function tensorEntryName(name: string): string {
  return `tensors/${name}.bin`;
}

const TENSOR_NAME = /^[A-Za-z0-9_.]{1,128}$/;
const PROVENANCE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

function fail(field: string, message: string, cause?: unknown): never {
  throw FormatError.avatar(field, message, cause);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 64 ? `${s.slice(0, 64)}...` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInt(field: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(field, `expected an integer in [${lo}, ${hi}], got ${describe(v)}`);
  return v;
}

/** ConfigError names fields from "model." / "camera."; re-root them under the header. */
export function configErrorToFormat(e: ConfigError): FormatError {
  const colon = e.message.indexOf(': ');
  const where = colon > 0 ? e.message.slice(0, colon) : 'model';
  const message = colon > 0 ? e.message.slice(colon + 2) : e.message;
  const field = where.startsWith('model') ? `header.config${where.slice(5)}` : `header.${where}`;
  return FormatError.avatar(field, message, e);
}

export function checkConfigAndCamera(config: unknown, camera: unknown): void {
  if (!isRecord(config)) fail('header.config', `expected an object, got ${describe(config)}`);
  if (!isRecord(camera)) fail('header.camera', `expected an object, got ${describe(camera)}`);
  try {
    validateModelConfig(config as unknown as ModelConfig);
    validateCamera(camera as unknown as CameraConfig);
  } catch (e) {
    if (e instanceof ConfigError) throw configErrorToFormat(e);
    // A hostile shape the validators did not anticipate (e.g. a getter-less primitive where an object was expected).
    fail('header.config', 'is not a valid model configuration', e);
  }
}

export function checkProvenance(v: unknown, field = 'header.provenance'): Provenance {
  if (!isRecord(v)) fail(field, `expected an object, got ${describe(v)}`);
  const keys = Object.keys(v);
  if (keys.length > FORMAT_LIMITS.maxProvenanceKeys) fail(field, `expected at most ${FORMAT_LIMITS.maxProvenanceKeys} keys, got ${keys.length}`);
  if (typeof v.source !== 'string') fail(`${field}.source`, `expected a string, got ${describe(v.source)}`);
  const out: Provenance = { source: v.source };
  for (const key of keys) {
    if (!PROVENANCE_KEY.test(key) || key === '__proto__') fail(field, `invalid key ${describe(key)}`);
    const value = v[key];
    const ok =
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= FORMAT_LIMITS.maxProvenanceStringChars);
    if (!ok) fail(`${field}.${key}`, `expected a string (<= ${FORMAT_LIMITS.maxProvenanceStringChars} chars), finite number, boolean or null, got ${describe(value)}`);
    out[key] = value as string | number | boolean | null;
  }
  return out;
}

function checkHeaderTensor(v: unknown, i: number): HeaderTensor {
  const field = `header.tensors[${i}]`;
  if (!isRecord(v)) fail(field, `expected an object, got ${describe(v)}`);
  if (typeof v.name !== 'string' || !TENSOR_NAME.test(v.name)) fail(`${field}.name`, `expected 1-128 characters of [A-Za-z0-9_.], got ${describe(v.name)}`);
  if (!isDType(v.dtype)) fail(`${field}.dtype`, `expected float32, float16, uint8 or int32, got ${describe(v.dtype)}`);
  if (!Array.isArray(v.shape)) fail(`${field}.shape`, `expected an array, got ${describe(v.shape)}`);
  tensorByteLength(v.dtype, v.shape as number[], `${field}.shape`);
  const entry = tensorEntryName(v.name);
  if (v.entry !== entry) fail(`${field}.entry`, `expected ${describe(entry)}, got ${describe(v.entry)}`);
  return { name: v.name, dtype: v.dtype, shape: (v.shape as number[]).slice(), entry };
}

/** Validates a parsed header.json and returns a clean copy; tensor shapes are checked against the config too. */
export function validateHeader(v: unknown): AvatarHeader {
  if (!isRecord(v)) fail('header.json', `expected an object, got ${describe(v)}`);
  if (v.format !== AVATAR_FORMAT) fail('header.format', `expected ${describe(AVATAR_FORMAT)}, got ${describe(v.format)}`);
  if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1) fail('header.version', `expected a positive integer, got ${describe(v.version)}`);
  if (v.version > AVATAR_FORMAT_VERSION) {
    fail('header.version', `this avatar was made by a newer version of R2 Talker (file format version ${v.version}, this reader supports up to ${AVATAR_FORMAT_VERSION}); update R2 Talker to load it`);
  }
  if (typeof v.name !== 'string' || v.name.length > FORMAT_LIMITS.maxNameChars) fail('header.name', `expected a string of at most ${FORMAT_LIMITS.maxNameChars} characters, got ${describe(v.name)}`);
  checkConfigAndCamera(v.config, v.camera);
  const config = v.config as unknown as ModelConfig;
  const camera = v.camera as unknown as CameraConfig;
  if (!Array.isArray(v.tensors)) fail('header.tensors', `expected an array, got ${describe(v.tensors)}`);
  if (v.tensors.length > FORMAT_LIMITS.maxTensors) fail('header.tensors', `expected at most ${FORMAT_LIMITS.maxTensors} tensors, got ${v.tensors.length}`);
  const tensors = v.tensors.map(checkHeaderTensor);
  let landmarkStats: AvatarHeader['landmarkStats'] = null;
  if (v.landmarkStats !== null) {
    if (!isRecord(v.landmarkStats)) fail('header.landmarkStats', `expected { frames } or null, got ${describe(v.landmarkStats)}`);
    landmarkStats = { frames: checkInt('header.landmarkStats.frames', v.landmarkStats.frames, 1, FORMAT_LIMITS.maxStatsFrames) };
  }
  let generator: AvatarHeader['generator'] = null;
  if (v.generator !== null) {
    if (!isRecord(v.generator)) fail('header.generator', `expected { entry, bytes } or null, got ${describe(v.generator)}`);
    if (v.generator.entry !== GENERATOR_ENTRY) fail('header.generator.entry', `expected ${describe(GENERATOR_ENTRY)}, got ${describe(v.generator.entry)}`);
    generator = { entry: GENERATOR_ENTRY, bytes: checkInt('header.generator.bytes', v.generator.bytes, 1, FORMAT_LIMITS.maxGeneratorBytes) };
  }
  const provenance = checkProvenance(v.provenance);
  checkTensorLayout(config, camera, tensors, landmarkStats !== null);
  return { format: AVATAR_FORMAT, version: v.version, name: v.name, config, camera, tensors, landmarkStats, generator, provenance };
}

/** Decodes and validates header.json bytes (already bounded in size by the caller). */
export function parseHeader(bytes: Uint8Array): AvatarHeader {
  if (bytes.byteLength > FORMAT_LIMITS.maxHeaderBytes) fail('header.json', `expected at most ${FORMAT_LIMITS.maxHeaderBytes} bytes, got ${bytes.byteLength}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    fail('header.json', 'is not valid UTF-8', e);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail('header.json', `is not valid JSON (${e instanceof Error ? e.message : String(e)})`, e);
  }
  return validateHeader(value);
}

export function encodeHeader(header: AvatarHeader): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(header));
}

interface TensorDecl {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

function checkDecl(d: TensorDecl, dtypes: readonly DType[], shape: readonly number[]): void {
  const field = `tensors/${d.name}`;
  if (!dtypes.includes(d.dtype)) fail(field, `expected dtype ${dtypes.join(' or ')}, got ${d.dtype}`);
  if (d.shape.length !== shape.length || d.shape.some((n, i) => n !== shape[i])) {
    fail(field, `expected shape ${formatShape(shape)}, got ${formatShape(d.shape)}`);
  }
}

/**
 * The tensor set rules: every tensor of expectedTensors(config) with an allowed dtype and the
 * exact shape, plus the known extras (poses, background, eye, landmark stats and their source), nothing else,
 * nothing twice. `hasStats` says whether landmark_mean/landmark_std must be present.
 */
export function checkTensorLayout(config: ModelConfig, camera: CameraConfig, tensors: readonly TensorDecl[], hasStats: boolean): void {
  const byName = new Map<string, TensorDecl>();
  for (const t of tensors) {
    if (byName.has(t.name)) fail(`tensors/${t.name}`, 'appears more than once');
    byName.set(t.name, t);
    tensorByteLength(t.dtype, t.shape, `tensors/${t.name}`);
  }
  const known = new Set<string>();
  for (const spec of expectedTensors(config)) {
    known.add(spec.name);
    const d = byName.get(spec.name);
    if (!d) fail(`tensors/${spec.name}`, `missing (expected ${spec.dtypes.join(' or ')} ${formatShape(spec.shape)})`);
    checkDecl(d, spec.dtypes, spec.shape);
  }
  const poses = byName.get('poses');
  if (!poses) fail('tensors/poses', 'missing (expected float32 [N,4,4])');
  const n = poses.shape[0];
  if (poses.shape.length !== 3 || !(n >= 1 && n <= LIMITS.maxPoses)) fail('tensors/poses', `expected shape [N,4,4] with 1 <= N <= ${LIMITS.maxPoses}, got ${formatShape(poses.shape)}`);
  checkDecl(poses, ['float32'], [n, 4, 4]);
  const background = byName.get('background');
  if (!background) fail('tensors/background', `missing (expected uint8 [${camera.height},${camera.width},3])`);
  checkDecl(background, ['uint8'], [camera.height, camera.width, 3]);
  known.add('poses').add('background');
  const eye = byName.get('eye');
  if (eye) checkDecl(eye, ['float32'], [n]);
  known.add('eye');
  const statsShape = [config.condition.numLandmarks * 3];
  for (const name of ['landmark_mean', 'landmark_std']) {
    const d = byName.get(name);
    if (d) checkDecl(d, ['float32'], statsShape);
    if (!d && hasStats) fail(`tensors/${name}`, 'missing (header.landmarkStats is set, so landmark_mean and landmark_std are required)');
    if (d && !hasStats) fail(`tensors/${name}`, 'present but header.landmarkStats is null');
    known.add(name);
  }
  // The person's own statistics an avatar trained through a landmark map was mapped from
  // (worker/model/landmark-map.ts): both or neither, and only beside the statistics mapped to.
  const source = ['landmark_source_mean', 'landmark_source_std'].map((name) => byName.get(name));
  for (const [i, name] of ['landmark_source_mean', 'landmark_source_std'].entries()) {
    const d = source[i];
    if (d) checkDecl(d, ['float32'], statsShape);
    if (d && !hasStats) fail(`tensors/${name}`, 'present but header.landmarkStats is null (a landmark map needs the statistics it maps to)');
    if (d && !source[1 - i]) fail(`tensors/${name}`, `present without ${i === 0 ? 'landmark_source_std' : 'landmark_source_mean'} (they come together)`);
    known.add(name);
  }
  for (const t of tensors) if (!known.has(t.name)) fail(`tensors/${t.name}`, 'is not a tensor of this model configuration');
}

/** Value rules: every float finite, landmark_std and landmark_source_std strictly positive. */
export function checkTensorValues(name: string, dtype: DType, data: TensorData): void {
  const bad = firstNonFinite(data, dtype);
  if (bad >= 0) fail(`tensors/${name}`, `element ${bad} is not finite`);
  if (name === 'landmark_std' || name === 'landmark_source_std') {
    const f = data as Float32Array;
    for (let i = 0; i < f.length; i++) if (!(f[i] > 0)) fail(`tensors/${name}`, `element ${i} must be > 0, got ${f[i]}`);
  }
}

/** Zip names and the magic are ASCII; latin1 decoding maps each byte to one character. */
export function asciiString(bytes: Uint8Array): string {
  return strFromU8(bytes, true);
}
