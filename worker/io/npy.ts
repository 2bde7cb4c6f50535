/**
 * NumPy `.npy` files (format versions 1.0-3.0), C order, numeric dtypes only. Big-endian
 * files are byte-swapped on read; files are always written little-endian, version 1.0.
 */
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { copyBytes } from '../util/bytes.ts';

export type NpyDType = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'bool';

export type NpyData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy itself refuses headers above 10000 bytes unless told otherwise. */
const MAX_HEADER = 65536;
const MAX_DIMS = 32;

const CODES: Record<string, NpyDType> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  b1: 'bool',
};

const SIZES: Record<NpyDType, number> = { float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, uint16: 2, uint32: 4, bool: 1 };

function bad(field: string, message: string): FormatError {
  return FormatError.input(`npy.${field}`, message);
}

function construct(dtype: NpyDType, buf: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
  }
}

function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  // The header is a Python dict literal with exactly these three keys, e.g.
  // {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
  const descr = /'descr'\s*:\s*'([<>|=][a-z]\d+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw bad('header', `expected descr, fortran_order and shape, got ${JSON.stringify(text.slice(0, 120))}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (dims.length > MAX_DIMS) throw bad('shape', `expected at most ${MAX_DIMS} dimensions, got ${dims.length}`);
  const parsed = dims.map((s) => {
    if (!/^\d{1,15}$/.test(s)) throw bad('shape', `expected non-negative integers, got ${JSON.stringify(shape[1])}`);
    return Number(s);
  });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: parsed };
}

/** Parses an .npy file. Throws FormatError('INPUT_FORMAT') naming the field on anything malformed. */
export function readNpy(bytes: Uint8Array, maxBytes: number = LIMITS.maxTensorBytes): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw bad('file', 'expected a Uint8Array');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('magic', 'expected \\x93NUMPY (not an .npy file)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('header', 'truncated');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw bad('version', `expected 1, 2 or 3, got ${major}`);
  }
  if (headerLen > MAX_HEADER || start + headerLen > bytes.length) throw bad('header', `length ${headerLen} exceeds the file or the ${MAX_HEADER}-byte limit`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const { descr, fortran, shape } = parseHeader(text);
  if (fortran) throw bad('fortran_order', 'expected False (C order), got True');
  const dtype = CODES[descr.slice(1)];
  if (!dtype) throw bad('descr', `expected a float32/float64/int/uint/bool dtype, got '${descr}'`);
  const itemsize = SIZES[dtype];
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * itemsize > maxBytes) throw bad('shape', `(${shape.join(', ')}) of ${dtype} exceeds the ${maxBytes}-byte limit`);
  }
  const dataStart = start + headerLen;
  const byteLength = count * itemsize;
  if (bytes.length - dataStart !== byteLength) {
    throw FormatError.expected('INPUT_FORMAT', 'npy.data', `${byteLength} bytes for shape (${shape.join(', ')}) of ${dtype}`, `${bytes.length - dataStart}`);
  }
  const copy = new Uint8Array(copyBytes(bytes, dataStart, dataStart + byteLength));
  const bigEndian = descr[0] === '>';
  if (bigEndian && itemsize > 1) for (let i = 0; i < copy.length; i += itemsize) copy.subarray(i, i + itemsize).reverse();
  return { dtype, shape, data: construct(dtype, copy.buffer) };
}

function descrOf(dtype: NpyDType): string {
  const code = Object.keys(CODES).find((k) => CODES[k] === dtype) as string;
  return `${SIZES[dtype] === 1 ? '|' : '<'}${code}`;
}

/** Writes an .npy file (version 1.0, little-endian, C order) as numpy.save would. */
export function writeNpy(arr: NpyArray): Uint8Array {
  const { dtype, shape, data } = arr;
  if (!(dtype in SIZES)) throw bad('descr', `unsupported dtype ${String(dtype)}`);
  if (!Array.isArray(shape) || shape.length > MAX_DIMS || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw bad('shape', `expected up to ${MAX_DIMS} non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw FormatError.expected('INPUT_FORMAT', 'npy.data', `${count} elements for shape (${shape.join(', ')})`, `${data.length}`);
  if (data.BYTES_PER_ELEMENT !== SIZES[dtype]) throw bad('data', `a ${data.constructor.name} cannot hold ${dtype}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads with spaces so that magic + length + header (+ newline) is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  if (header.length > 0xffff) throw bad('header', 'too long for version 1.0');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
