/**
 * Reads a `torch.save` checkpoint into plain values and materialised model tensors.
 *
 * Only the tensors of the `model` state dict are read; optimizer, scheduler, scaler and EMA
 * entries stay unmaterialised descriptors, so a full save costs no more than a best save.
 */
import { FormatError, R2TalkerError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { openTorchZip, readZipEntry, type TorchZip } from './torch-zip.ts';
import { PyGlobal, PyObject, StorageRef, TensorRef, TORCH_ITEMSIZE, unpickle, type PyValue, type TorchDType } from './torch-pickle.ts';

export type RawTensorData = Float32Array | Float64Array | Uint16Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array;

/** A tensor as stored: float16/bfloat16 kept as raw bits in a Uint16Array, bool as Uint8Array. */
export interface RawTensor {
  dtype: TorchDType;
  shape: number[];
  /** C-order, `prod(shape)` elements, native (little-endian) byte order. */
  data: RawTensorData;
}

export interface TorchCheckpoint {
  /** Every top-level entry except `model`, as plain values; tensors appear as `{ __tensor__: { dtype, shape } }`. */
  top: Record<string, unknown>;
  model: Map<string, RawTensor>;
  /** dtype and shape of every model tensor, materialised or not, in checkpoint order. */
  index: Map<string, { dtype: TorchDType; shape: number[] }>;
  /** The archive's root folder name (the stem of the file torch.save wrote). */
  root: string;
}

export interface ReadCheckpointOptions {
  /** Which model tensors to materialise (default all). Shapes of the others are still checked. */
  include?: (key: string) => boolean;
  onProgress?: (done: number, total: number) => void;
}

const MAX_PICKLE_BYTES = 64 << 20;
/** Budget of nodes visited when converting the non-model entries (shared refs, cycles). */
const MAX_PLAIN_NODES = 1_000_000;
const MAX_PLAIN_DEPTH = 64;

function fail(field: string, message: string): FormatError {
  return FormatError.checkpoint(field, message);
}

function toPlain(v: PyValue, field: string, budget: { left: number }, depth: number): unknown {
  if (--budget.left < 0) throw fail(field, `more than ${MAX_PLAIN_NODES} values (hostile or corrupt pickle)`);
  if (depth > MAX_PLAIN_DEPTH) throw fail(field, `nested deeper than ${MAX_PLAIN_DEPTH}`);
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x, i) => toPlain(x, `${field}[${i}]`, budget, depth + 1));
  if (v instanceof Map) {
    const entries: [string, unknown][] = [];
    for (const [k, x] of v) entries.push([String(k), toPlain(x, `${field}.${String(k)}`, budget, depth + 1)]);
    // fromEntries defines own properties, so a key named "__proto__" cannot reach a prototype.
    return Object.fromEntries(entries);
  }
  if (v instanceof TensorRef) return { __tensor__: { dtype: v.storage.dtype ?? v.storage.typeName, shape: v.shape.slice() } };
  if (v instanceof StorageRef) return { __storage__: v.key };
  if (v instanceof PyGlobal) return { __global__: v.qualifiedName };
  if (v instanceof PyObject) return { __object__: v.callee instanceof PyGlobal ? v.callee.qualifiedName : 'unknown' };
  return null;
}

function elementCount(shape: number[], field: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > LIMITS.maxTensorBytes) throw fail(field, `shape [${shape.join(',')}] is too large`);
  }
  return n;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function typed(dtype: TorchDType, buf: ArrayBuffer): RawTensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
  }
}

/** Copies the tensor's elements out of its storage in C order, honouring offset and strides. */
function gather(ref: TensorRef, storage: Uint8Array, itemsize: number, count: number): Uint8Array {
  const out = new Uint8Array(count * itemsize);
  const { shape, stride, offset } = ref;
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) {
    out.set(storage.subarray(offset * itemsize, (offset + count) * itemsize));
    return out;
  }
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let src = offset;
  for (let i = 0; i < count; i++) {
    out.set(storage.subarray(src * itemsize, (src + 1) * itemsize), i * itemsize);
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        src += stride[d];
        break;
      }
      src -= stride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

function swapBytes(b: Uint8Array, itemsize: number): void {
  for (let i = 0; i < b.length; i += itemsize) b.subarray(i, i + itemsize).reverse();
}

interface StorageCache {
  zip: TorchZip;
  seen: Map<string, { ref: StorageRef; bytes: Uint8Array | null }>;
}

function storageBytes(cache: StorageCache, ref: StorageRef, field: string, load: boolean): Uint8Array | null {
  const prev = cache.seen.get(ref.key);
  if (prev && (prev.ref.dtype !== ref.dtype || prev.ref.numel !== ref.numel)) {
    throw fail(field, `storage ${ref.key} is declared twice with different types or sizes`);
  }
  if (!ref.dtype) throw fail(field, `unsupported storage type ${ref.typeName}`);
  const want = ref.numel * TORCH_ITEMSIZE[ref.dtype];
  const entry = cache.zip.entries.get(`data/${ref.key}`);
  if (!entry) throw fail(field, `storage entry data/${ref.key} is missing from the archive`);
  if (entry.size !== want) throw fail(field, `storage data/${ref.key}: expected ${want} bytes (${ref.numel} x ${ref.dtype}), got ${entry.size}`);
  if (prev?.bytes || !load) {
    if (!prev) cache.seen.set(ref.key, { ref, bytes: null });
    return prev?.bytes ?? null;
  }
  const bytes = readZipEntry(cache.zip, `data/${ref.key}`);
  cache.seen.set(ref.key, { ref, bytes });
  return bytes;
}

function checkView(ref: TensorRef, field: string): number {
  const count = elementCount(ref.shape, field);
  if (count === 0) return 0;
  let last = ref.offset;
  for (let d = 0; d < ref.shape.length; d++) last += (ref.shape[d] - 1) * ref.stride[d];
  if (last >= ref.storage.numel) {
    throw fail(field, `view (offset ${ref.offset}, shape [${ref.shape.join(',')}], stride [${ref.stride.join(',')}]) reaches element ${last} of a ${ref.storage.numel}-element storage`);
  }
  // A view cannot have more elements than its storage: that would need zero strides, which a
  // state dict never holds, and it would let a tiny file request a huge allocation.
  if (count > ref.storage.numel) throw fail(field, `view of ${count} elements over a ${ref.storage.numel}-element storage`);
  return count;
}

function materialise(cache: StorageCache, ref: TensorRef, field: string): RawTensor {
  const count = checkView(ref, field);
  const dtype = ref.storage.dtype as TorchDType;
  const bytes = storageBytes(cache, ref.storage, field, true) as Uint8Array;
  const itemsize = TORCH_ITEMSIZE[dtype];
  const out = count === 0 ? new Uint8Array(0) : gather(ref, bytes, itemsize, count);
  if (!LITTLE_ENDIAN_HOST && itemsize > 1) swapBytes(out, itemsize);
  return { dtype, shape: ref.shape.slice(), data: typed(dtype, out.buffer as ArrayBuffer) };
}

function modelDict(top: Map<PyValue, PyValue>): Map<PyValue, PyValue> {
  const model = top.get('model');
  if (model instanceof Map) return model;
  if (model !== undefined) throw fail('model', 'expected a state dict (OrderedDict of tensors)');
  // The reference's load_checkpoint also accepts a bare state dict.
  const values = [...top.values()];
  if (values.length > 0 && values.every((v) => v instanceof TensorRef)) return top;
  throw fail('model', 'missing: the checkpoint holds no model state dict');
}

/** Parses a torch.save checkpoint. Throws FormatError('CHECKPOINT_FORMAT') on anything malformed. */
export function readTorchCheckpoint(bytes: Uint8Array, opts: ReadCheckpointOptions = {}): TorchCheckpoint {
  if (!(bytes instanceof Uint8Array)) throw fail('checkpoint', 'expected a Uint8Array');
  try {
    return read(bytes, opts);
  } catch (e) {
    if (e instanceof R2TalkerError) throw e;
    // Every input check above should have fired first; this keeps hostile files from ever
    // surfacing as a RangeError or TypeError.
    throw FormatError.checkpoint('checkpoint', `unreadable (${e instanceof Error ? e.message : String(e)})`, e);
  }
}

function read(bytes: Uint8Array, opts: ReadCheckpointOptions): TorchCheckpoint {
  const zip = openTorchZip(bytes);
  if (zip.entries.has('byteorder')) {
    const order = new TextDecoder().decode(readZipEntry(zip, 'byteorder', 16));
    if (order !== 'little') throw fail('byteorder', `expected "little", got ${JSON.stringify(order)}`);
  }
  const root = unpickle(readZipEntry(zip, 'data.pkl', MAX_PICKLE_BYTES));
  if (!(root instanceof Map)) throw fail('data.pkl', 'expected a dict at the top level');
  for (const k of root.keys()) if (typeof k !== 'string') throw fail('data.pkl', `expected string keys at the top level, got ${typeof k}`);
  const dict = modelDict(root);
  const budget = { left: MAX_PLAIN_NODES };
  const topEntries: [string, unknown][] = [];
  if (dict !== root) for (const [k, v] of root) if (k !== 'model') topEntries.push([k as string, toPlain(v, k as string, budget, 0)]);

  const cache: StorageCache = { zip, seen: new Map() };
  const refs: [string, TensorRef][] = [];
  for (const [k, v] of dict) {
    if (typeof k !== 'string') throw fail('model', `expected string keys, got ${typeof k}`);
    if (!(v instanceof TensorRef)) throw fail(`model.${k}`, 'expected a tensor');
    refs.push([k, v]);
  }
  const model = new Map<string, RawTensor>();
  const index = new Map<string, { dtype: TorchDType; shape: number[] }>();
  const include = opts.include ?? (() => true);
  refs.forEach(([k, ref], i) => {
    const field = `model.${k}`;
    if (include(k)) {
      model.set(k, materialise(cache, ref, field));
    } else {
      checkView(ref, field);
      storageBytes(cache, ref.storage, field, false);
    }
    index.set(k, { dtype: ref.storage.dtype as TorchDType, shape: ref.shape.slice() });
    opts.onProgress?.(i + 1, refs.length);
  });
  return { top: Object.fromEntries(topEntries), model, index, root: zip.root };
}
