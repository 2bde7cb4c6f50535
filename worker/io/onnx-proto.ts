/**
 * The subset of the ONNX protobuf schema the project writes and reads. The wire codec
 * (onnx-proto-codec.ts) is hand-written over protobufjs/minimal so that it runs under a CSP
 * without 'unsafe-eval' (extension pages); only the fields below are read, unknown fields
 * of foreign models are skipped.
 *
 * Decoded models carry every repeated field as an array (empty when absent) and the
 * fields these interfaces require with their protobuf defaults ('' / 0) when absent;
 * optional scalars are present only when they were on the wire.
 */
import { FormatError } from '../errors.ts';
import { decodeModelMessage, encodeModelMessage } from './onnx-proto-codec.ts';

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_STRING = 3;
export const ATTR_INTS = 7;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: number[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  docString?: string;
  attribute?: OnnxAttribute[];
}

export interface OnnxDim {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: OnnxDim[] } } };
  docString?: string;
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  irVersion: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  opsetImport: { domain?: string; version: number }[];
  graph: OnnxGraph;
  metadataProps?: { key: string; value: string }[];
}

/** Bound on a model this project will decode (the generator budget is 4 MB). */
export const MAX_ONNX_BYTES = 16 * 1024 * 1024;

export function encodeOnnx(model: OnnxModel): Uint8Array {
  return encodeModelMessage(model);
}

export function decodeOnnx(bytes: Uint8Array, field = 'onnx'): OnnxModel {
  if (bytes.length > MAX_ONNX_BYTES) throw FormatError.expected('INPUT_FORMAT', field, `at most ${MAX_ONNX_BYTES} bytes`, `${bytes.length}`);
  let msg: ReturnType<typeof decodeModelMessage>;
  try {
    msg = decodeModelMessage(bytes, field);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw FormatError.input(field, `not an ONNX protobuf (${e instanceof Error ? e.message : String(e)})`, e);
  }
  const { graph } = msg;
  if (!graph) throw FormatError.input(`${field}.graph`, 'missing');
  return { ...msg, graph };
}

/** Little-endian float32 bytes of a tensor (raw_data or float_data). */
export function tensorFloats(t: OnnxTensor, field: string): Float32Array {
  if (t.dataType !== ONNX_FLOAT) throw FormatError.expected('INPUT_FORMAT', `${field}.dataType`, 'FLOAT (1)', String(t.dataType));
  const dims = t.dims ?? [];
  const bad = dims.findIndex((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad >= 0) throw FormatError.expected('INPUT_FORMAT', `${field}.dims[${bad}]`, 'a non-negative integer', String(dims[bad]));
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_ONNX_BYTES) throw FormatError.expected('INPUT_FORMAT', `${field}.dims`, `at most ${MAX_ONNX_BYTES} elements`, String(count));
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * 4) throw FormatError.expected('INPUT_FORMAT', `${field}.rawData`, `${count * 4} bytes`, `${t.rawData.length}`);
    const out = new Float32Array(count);
    const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true);
    return out;
  }
  const fd = t.floatData ?? [];
  if (fd.length !== count) throw FormatError.expected('INPUT_FORMAT', `${field}.floatData`, `${count} values`, `${fd.length}`);
  return Float32Array.from(fd);
}

export function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  const raw = new Uint8Array(data.length * 4);
  const v = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  return { name, dims, dataType: ONNX_FLOAT, rawData: raw };
}

export function int64Tensor(name: string, dims: number[], data: number[]): OnnxTensor {
  return { name, dims, dataType: ONNX_INT64, int64Data: data };
}

export function floatValueInfo(name: string, dims: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
