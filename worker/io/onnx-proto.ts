/**
 * The subset of the ONNX protobuf schema the project writes and reads, declared with
 * protobufjs reflection. Field numbers are those of the public onnx.proto (proto2); only
 * the fields we use are declared, so unknown fields of foreign models are skipped when
 * decoding.
 */
import protobuf from 'protobufjs/light.js';
import { FormatError } from '../errors.ts';

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
  ints?: number[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: OnnxAttribute[];
}

export interface OnnxDim {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: OnnxDim[] } } };
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  opsetImport: { domain?: string; version: number }[];
  graph: OnnxGraph;
  metadataProps?: { key: string; value: string }[];
}

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: { name: f(1, 'string'), f: f(2, 'float'), i: f(3, 'int64'), s: f(4, 'bytes'), t: f(5, 'TensorProto'), floats: f(7, 'float', 'repeated'), ints: f(8, 'int64', 'repeated'), type: f(20, 'int32') },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), docString: f(3, 'string') } },
        NodeProto: {
          fields: { input: f(1, 'string', 'repeated'), output: f(2, 'string', 'repeated'), name: f(3, 'string'), opType: f(4, 'string'), attribute: f(5, 'AttributeProto', 'repeated'), docString: f(6, 'string'), domain: f(7, 'string') },
        },
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            domain: f(4, 'string'),
            modelVersion: f(5, 'int64'),
            docString: f(6, 'string'),
            graph: f(7, 'GraphProto'),
            opsetImport: f(8, 'OperatorSetIdProto', 'repeated'),
            metadataProps: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'),
            name: f(2, 'string'),
            initializer: f(5, 'TensorProto', 'repeated'),
            docString: f(10, 'string'),
            input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: f(1, 'int64', 'repeated'),
            dataType: f(2, 'int32'),
            floatData: { ...f(4, 'float', 'repeated'), options: { packed: true } },
            int64Data: { ...f(7, 'int64', 'repeated'), options: { packed: true } },
            name: f(8, 'string'),
            rawData: f(9, 'bytes'),
          },
        },
        TensorShapeProto: {
          fields: { dim: f(1, 'Dimension', 'repeated') },
          nested: { Dimension: { fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string') } } },
        },
        TypeProto: {
          fields: { tensorType: f(1, 'Tensor') },
          nested: { Tensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
      },
    },
  },
};

let modelType: protobuf.Type | null = null;

function modelProto(): protobuf.Type {
  if (!modelType) modelType = protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

/** Bound on a model this project will decode (the generator budget is 4 MB). */
export const MAX_ONNX_BYTES = 16 * 1024 * 1024;

export function encodeOnnx(model: OnnxModel): Uint8Array {
  const T = modelProto();
  return T.encode(T.fromObject(model)).finish();
}

export function decodeOnnx(bytes: Uint8Array, field = 'onnx'): OnnxModel {
  if (bytes.length > MAX_ONNX_BYTES) throw FormatError.expected('INPUT_FORMAT', field, `at most ${MAX_ONNX_BYTES} bytes`, `${bytes.length}`);
  const T = modelProto();
  let msg: protobuf.Message;
  try {
    msg = T.decode(bytes);
  } catch (e) {
    throw FormatError.input(field, `not an ONNX protobuf (${e instanceof Error ? e.message : String(e)})`, e);
  }
  const obj = T.toObject(msg, { longs: Number, arrays: true, defaults: false }) as OnnxModel;
  if (!obj.graph) throw FormatError.input(`${field}.graph`, 'missing');
  obj.graph.node ??= [];
  obj.graph.initializer ??= [];
  obj.graph.input ??= [];
  obj.graph.output ??= [];
  return obj;
}

/** Little-endian float32 bytes of a tensor (raw_data or float_data). */
export function tensorFloats(t: OnnxTensor, field: string): Float32Array {
  if (t.dataType !== ONNX_FLOAT) throw FormatError.expected('INPUT_FORMAT', `${field}.dataType`, 'FLOAT (1)', String(t.dataType));
  const count = (t.dims ?? []).reduce((a, b) => a * b, 1);
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
