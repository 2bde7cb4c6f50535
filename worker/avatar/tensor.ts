/**
 * dtype helpers shared by the .r2t reader/writer, the importer and the models: byte sizes
 * with hard bounds, float16 <-> float32 conversion, and data checks.
 *
 * float16 tensors are kept as raw IEEE half bits in a Uint16Array (see types.ts); consumers
 * that need numbers call `toFloat32`.
 */
import { Float16Array, getFloat16 } from '@petamoriken/float16';
import { FormatError, R2TalkerError } from '../errors.ts';
import { LIMITS, type DType } from './config.ts';
import type { Tensor, TensorData } from './types.ts';

type FormatCode = 'AVATAR_FORMAT' | 'CHECKPOINT_FORMAT' | 'INPUT_FORMAT';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'uint8', 'int32'];

/** Tensors are little-endian on disk and typed arrays use host order; every supported host is little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function assertLittleEndianHost(): void {
  if (!HOST_LITTLE_ENDIAN) throw new R2TalkerError('INTERNAL', 'big-endian hosts are not supported');
}

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && (DTYPES as readonly string[]).includes(v);
}

export function dtypeByteSize(dtype: DType): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    case 'uint8':
      return 1;
  }
}

export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : JSON.stringify(d))).join(',')}]`;
}

/**
 * Byte length of a tensor, refusing anything a hostile header could use to request a huge
 * allocation: every dim a positive integer, at most 8 dims, at most LIMITS.maxTensorBytes.
 */
export function tensorByteLength(dtype: DType, shape: readonly number[], field = 'shape', code: FormatCode = 'AVATAR_FORMAT'): number {
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 8) {
    throw new FormatError(code, field, `expected 1 to 8 dimensions, got ${Array.isArray(shape) ? shape.length : typeof shape}`);
  }
  let bytes = dtypeByteSize(dtype);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new FormatError(code, field, `expected positive integer dimensions, got ${formatShape(shape)}`);
    }
    // Bounded at every step so the product never leaves the exact-integer range.
    bytes *= d;
    if (bytes > LIMITS.maxTensorBytes) {
      throw new FormatError(code, field, `shape ${formatShape(shape)} of ${dtype} exceeds the ${LIMITS.maxTensorBytes}-byte tensor limit`);
    }
  }
  return bytes;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

let halfTable: Float32Array | null = null;

/** All 65536 half values, built once: a table lookup is far cheaper than decoding per element. */
function float16Table(): Float32Array {
  if (!halfTable) {
    const bits = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) bits[i] = i;
    const view = new DataView(bits.buffer);
    const table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = getFloat16(view, i * 2, HOST_LITTLE_ENDIAN);
    halfTable = table;
  }
  return halfTable;
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const table = float16Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Round-to-nearest-even half bits; values beyond the half range become +-Infinity. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  // The library's typed-array constructor converts in bulk (~50x faster than setFloat16 per element).
  const half = new Float16Array(values);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}

/**
 * The tensor's values as float32. A float32 tensor's own array is returned (no copy), so
 * callers that mutate must copy first.
 */
export function toFloat32(tensor: Tensor): Float32Array {
  const data = tensor.data;
  switch (tensor.dtype) {
    case 'float32':
      return data as Float32Array;
    case 'float16':
      return float16BitsToFloat32(data as Uint16Array);
    default:
      return Float32Array.from(data);
  }
}

/** Copies little-endian bytes into a fresh, aligned typed array of the dtype. */
export function typedArrayFromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  assertLittleEndianHost();
  const size = dtypeByteSize(dtype);
  if (bytes.byteLength % size !== 0) throw new R2TalkerError('INTERNAL', `${bytes.byteLength} bytes is not a whole number of ${dtype}`);
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float16':
      return new Uint16Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
  }
}

/** The little-endian bytes of a tensor's data (a view, not a copy). */
export function tensorBytes(data: TensorData): Uint8Array {
  assertLittleEndianHost();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Whether the typed array class is the one the dtype is stored in. */
export function dataMatchesDType(data: unknown, dtype: DType): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float16':
      return data instanceof Uint16Array;
    case 'uint8':
      return data instanceof Uint8Array;
    case 'int32':
      return data instanceof Int32Array;
  }
}

/** Index of the first NaN or infinite value of a float tensor, or -1 (always -1 for integer dtypes). */
export function firstNonFinite(data: TensorData, dtype: DType): number {
  if (dtype === 'float32') {
    const f = data as Float32Array;
    for (let i = 0; i < f.length; i++) if (!Number.isFinite(f[i])) return i;
  } else if (dtype === 'float16') {
    const h = data as Uint16Array;
    // exponent all ones = Inf or NaN
    for (let i = 0; i < h.length; i++) if ((h[i] & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}
