/**
 * writeAvatar: Avatar -> .r2t bytes (a stored-only zip built with fflate). The avatar is
 * checked with the reader's own rules first, so a written file always reads back.
 */
import { zipSync, type Zippable } from 'fflate';
import { FormatError } from '../errors.ts';
import { expectedTensors, type DType } from './config.ts';
import {
  FORMAT_LIMITS,
  GENERATOR_ENTRY,
  HEADER_ENTRY,
  MIMETYPE,
  MIMETYPE_ENTRY,
  checkConfigAndCamera,
  checkTensorValues,
  encodeHeader,
  parseHeader,
  tensorEntryName,
  type AvatarHeader,
} from './format.ts';
import { dataMatchesDType, elementCount, float32ToFloat16Bits, formatShape, isDType, tensorByteLength, tensorBytes, toFloat32 } from './tensor.ts';
import { AVATAR_FORMAT, AVATAR_FORMAT_VERSION, type Avatar, type Tensor } from './types.ts';

export interface WriteAvatarOptions {
  /** Storage dtype of every tensor whose spec allows float16; default keeps each tensor's dtype. */
  weightDtype?: 'float32' | 'float16';
}

/** A fixed timestamp keeps the output byte-identical for the same avatar. */
const ZIP_MTIME = new Date(2020, 0, 1);

function fail(field: string, message: string): never {
  throw FormatError.avatar(field, message);
}

function convert(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const data = dtype === 'float16' ? float32ToFloat16Bits(toFloat32(t)) : toFloat32(t);
  return { name: t.name, dtype, shape: t.shape, data };
}

function checkTensor(key: string, t: Tensor): void {
  const field = `tensors/${key}`;
  if (!t || typeof t !== 'object') fail(field, 'expected a tensor object');
  if (t.name !== key) fail(field, `tensor is named ${JSON.stringify(t.name)} but stored under ${JSON.stringify(key)}`);
  if (!isDType(t.dtype)) fail(field, `unknown dtype ${JSON.stringify(t.dtype)}`);
  tensorByteLength(t.dtype, t.shape, field);
  if (!dataMatchesDType(t.data, t.dtype)) fail(field, `data is not the typed array of dtype ${t.dtype}`);
  const n = elementCount(t.shape);
  if (t.data.length !== n) fail(field, `expected ${n} elements for shape ${formatShape(t.shape)}, got ${t.data.length}`);
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The tensors to store, in spec order then extras: landmark stats come from `avatar.landmarkStats`. */
function collectTensors(avatar: Avatar, weightDtype: WriteAvatarOptions['weightDtype']): Tensor[] {
  if (!(avatar.tensors instanceof Map)) fail('tensors', 'expected a Map of tensors');
  if (avatar.tensors.size > FORMAT_LIMITS.maxTensors) fail('tensors', `expected at most ${FORMAT_LIMITS.maxTensors} tensors, got ${avatar.tensors.size}`);
  for (const [key, t] of avatar.tensors) checkTensor(key, t);
  const stats = avatar.landmarkStats;
  if (stats !== null) {
    if (!stats || !(stats.mean instanceof Float32Array) || !(stats.std instanceof Float32Array)) fail('landmarkStats', 'expected { mean: Float32Array, std: Float32Array, frames } or null');
    for (const [name, values] of [['landmark_mean', stats.mean], ['landmark_std', stats.std]] as const) {
      const t = avatar.tensors.get(name);
      if (t && (t.dtype !== 'float32' || !sameValues(t.data as Float32Array, values))) fail(`tensors/${name}`, 'differs from avatar.landmarkStats');
    }
  } else {
    for (const name of ['landmark_mean', 'landmark_std']) if (avatar.tensors.has(name)) fail(`tensors/${name}`, 'present but avatar.landmarkStats is null');
  }
  const halfCapable = new Set(expectedTensors(avatar.config).filter((s) => s.dtypes.includes('float16')).map((s) => s.name));
  const ordered: Tensor[] = [];
  const seen = new Set<string>();
  const add = (t: Tensor) => {
    seen.add(t.name);
    ordered.push(weightDtype && halfCapable.has(t.name) ? convert(t, weightDtype) : t);
  };
  for (const spec of expectedTensors(avatar.config)) {
    const t = avatar.tensors.get(spec.name);
    if (t) add(t);
  }
  // Unknown names are kept so the layout check reports them by name.
  for (const t of avatar.tensors.values()) if (!seen.has(t.name) && t.name !== 'landmark_mean' && t.name !== 'landmark_std') add(t);
  if (stats) {
    add({ name: 'landmark_mean', dtype: 'float32', shape: [stats.mean.length], data: stats.mean });
    add({ name: 'landmark_std', dtype: 'float32', shape: [stats.std.length], data: stats.std });
  }
  return ordered;
}

/**
 * Serialises an avatar. Throws FormatError (AVATAR_FORMAT) naming the field when the avatar
 * breaks a rule the reader enforces (shapes, dtypes, non-finite values, bounds).
 */
export function writeAvatar(avatar: Avatar, opts: WriteAvatarOptions = {}): Uint8Array {
  if (!avatar || typeof avatar !== 'object') fail('avatar', 'expected an object');
  const { weightDtype } = opts;
  if (weightDtype !== undefined && weightDtype !== 'float32' && weightDtype !== 'float16') fail('weightDtype', `expected float32 or float16, got ${JSON.stringify(weightDtype)}`);
  checkConfigAndCamera(avatar.config, avatar.camera);
  const tensors = collectTensors(avatar, weightDtype);
  for (const t of tensors) {
    // float16 conversion can overflow to Infinity; report it here rather than write an unreadable file.
    checkTensorValues(t.name, t.dtype, t.data);
  }
  const generator = avatar.generator;
  if (generator !== null && !(generator instanceof Uint8Array)) fail('generator', 'expected a Uint8Array or null');
  if (generator && (generator.byteLength < 1 || generator.byteLength > FORMAT_LIMITS.maxGeneratorBytes)) {
    fail('generator', `expected 1 to ${FORMAT_LIMITS.maxGeneratorBytes} bytes, got ${generator.byteLength}`);
  }
  const header: AvatarHeader = {
    format: AVATAR_FORMAT,
    version: AVATAR_FORMAT_VERSION,
    name: avatar.name,
    config: avatar.config,
    camera: avatar.camera,
    tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape.slice(), entry: tensorEntryName(t.name) })),
    landmarkStats: avatar.landmarkStats ? { frames: avatar.landmarkStats.frames } : null,
    generator: generator ? { entry: GENERATOR_ENTRY, bytes: generator.byteLength } : null,
    provenance: avatar.provenance,
  };
  const headerBytes = encodeHeader(header);
  // The reader's own header check (JSON round trip included), so the file cannot be rejected later.
  parseHeader(headerBytes);

  const stored = { level: 0 as const, mtime: ZIP_MTIME };
  // Insertion order is the archive order: mimetype must come first. No key is integer-like, so order holds.
  const files: Zippable = {
    [MIMETYPE_ENTRY]: [new TextEncoder().encode(MIMETYPE), stored],
    [HEADER_ENTRY]: [headerBytes, stored],
  };
  for (const t of tensors) files[tensorEntryName(t.name)] = [tensorBytes(t.data), stored];
  if (generator) files[GENERATOR_ENTRY] = [generator, stored];
  if (Object.keys(files).length > FORMAT_LIMITS.maxEntries) fail('tensors', `too many entries (${Object.keys(files).length})`);
  return zipSync(files);
}
