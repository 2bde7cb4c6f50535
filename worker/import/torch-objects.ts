/**
 * The values the unpickler produces, and the only callables it interprets: the torch
 * functions that rebuild tensors and state dicts. Everything else stays an inert PyObject.
 */
import { FormatError } from '../errors.ts';

export type TorchDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'bool';

export const TORCH_ITEMSIZE: Record<TorchDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
};

const STORAGE_DTYPES: Record<string, TorchDType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  ByteStorage: 'uint8',
  CharStorage: 'int8',
  ShortStorage: 'int16',
  IntStorage: 'int32',
  LongStorage: 'int64',
  BoolStorage: 'bool',
};

/** A Python global (`module.name`) named by the stream; never resolved to code. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object of a class we do not interpret (numpy scalars, optimizer internals...). */
export class PyObject {
  state: PyValue = null;

  constructor(
    readonly callee: PyValue,
    readonly args: PyValue[],
  ) {}
}

/** A storage named by a persistent id: its bytes live in the zip entry `data/<key>`. */
export class StorageRef {
  constructor(
    /** null when the storage class is not one we can read. */
    readonly dtype: TorchDType | null,
    readonly typeName: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor view onto a storage (torch._utils._rebuild_tensor_v2 arguments). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyValue, PyValue>
  | PyGlobal
  | PyObject
  | StorageRef
  | TensorRef;


const MAX_DIMS = 16;
const MAX_DIM_VALUE = 2 ** 40;

function intList(v: PyValue, what: string, at: number): number[] {
  if (!Array.isArray(v) || v.length > MAX_DIMS) throw FormatError.checkpoint('data.pkl', `${what} at byte ${at}: expected a tuple of at most ${MAX_DIMS} ints`);
  return v.map((x) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > MAX_DIM_VALUE) {
      throw FormatError.checkpoint('data.pkl', `${what} at byte ${at}: expected non-negative integers, got ${String(x)}`);
    }
    return x;
  });
}

function rebuildTensor(args: PyValue[], at: number): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw FormatError.checkpoint('data.pkl', `tensor at byte ${at}: expected a storage as first argument`);
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > MAX_DIM_VALUE) {
    throw FormatError.checkpoint('data.pkl', `tensor at byte ${at}: expected a non-negative storage offset, got ${String(offset)}`);
  }
  const shape = intList(size, 'tensor size', at);
  const strides = intList(stride, 'tensor stride', at);
  if (strides.length !== shape.length) throw FormatError.checkpoint('data.pkl', `tensor at byte ${at}: ${shape.length} sizes but ${strides.length} strides`);
  return new TensorRef(storage, offset, shape, strides);
}

/** torch.save's persistent_id for a storage: ('storage', StorageClass, key, location, numel). */
export function persistentLoad(pid: PyValue, at: number): StorageRef {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') {
    throw FormatError.checkpoint('data.pkl', `persistent id at byte ${at}: expected ('storage', type, key, location, numel)`);
  }
  const [, type, key, location, numel] = pid;
  if (!(type instanceof PyGlobal)) throw FormatError.checkpoint('data.pkl', `persistent id at byte ${at}: expected a storage class`);
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw FormatError.checkpoint('data.pkl', `persistent id at byte ${at}: bad storage key ${JSON.stringify(key)}`);
  if (typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0 || numel > MAX_DIM_VALUE) {
    throw FormatError.checkpoint('data.pkl', `storage ${key}: expected a non-negative element count, got ${String(numel)}`);
  }
  const dtype = type.module === 'torch' && Object.hasOwn(STORAGE_DTYPES, type.name) ? STORAGE_DTYPES[type.name] : null;
  return new StorageRef(dtype, type.qualifiedName, key, typeof location === 'string' ? location : '', numel);
}

/** REDUCE: the torch rebuild functions are interpreted; any other callable stays inert data. */
export function call(fn: PyValue, args: PyValue, at: number): PyValue {
  if (!Array.isArray(args)) throw FormatError.checkpoint('data.pkl', `REDUCE at byte ${at}: expected an argument tuple`);
  if (fn instanceof PyGlobal) {
    switch (fn.qualifiedName) {
      case 'collections.OrderedDict':
        return new Map();
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor':
        return rebuildTensor(args, at);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        if (!(args[0] instanceof TensorRef)) throw FormatError.checkpoint('data.pkl', `parameter at byte ${at}: expected a tensor`);
        return args[0];
    }
  }
  return new PyObject(fn, args);
}

/** Unpickles `data.pkl`. Throws FormatError('CHECKPOINT_FORMAT') naming the offending byte. */
