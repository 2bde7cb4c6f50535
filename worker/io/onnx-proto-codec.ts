/**
 * Hand-written protobuf wire codec for the ONNX messages in onnx-proto.ts. Only
 * `protobufjs/minimal` (Reader / Writer) is used: protobufjs reflection compiles
 * encoders with `new Function`, which an extension page's CSP (no 'unsafe-eval') refuses.
 *
 * Field numbers are those of the public onnx.proto. Repeated scalars are written packed
 * (as the reflection encoder this replaces did, so committed models re-encode byte for
 * byte) and read packed or unpacked. Unknown fields are skipped. Every length is checked
 * against the enclosing message, so a lying length cannot make a read cross into a
 * neighbouring message or allocate beyond the input.
 */
import protobuf from 'protobufjs/minimal.js';
import { FormatError, R2TalkerError } from '../errors.ts';
import type { OnnxAttribute, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.ts';

type Reader = protobuf.Reader;
type Writer = protobuf.Writer;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', '6', '7'];

// ---------------------------------------------------------------- decoding

/** Reads one message's fields up to `end`; `on` returns false for a field it does not know. */
function readFields(r: Reader, end: number, path: string, on: (field: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw FormatError.input(path, `field number 0 (tag ${tag}) at byte ${r.pos}`);
    if (!on(field, wire)) r.skipType(wire);
  }
  if (r.pos !== end) throw FormatError.input(path, `a field runs past the end of the message (byte ${r.pos}, message ends at ${end})`);
}

function expectWire(wire: number, want: number, path: string): void {
  if (wire !== want) throw FormatError.expected('INPUT_FORMAT', path, `wire type ${WIRE_NAMES[want]}`, WIRE_NAMES[wire]);
}

/** Reads a length prefix and returns where that field ends; it must lie inside `end`. */
function lengthEnd(r: Reader, end: number, path: string): number {
  const n = r.uint32();
  if (n > end - r.pos) throw FormatError.expected('INPUT_FORMAT', path, `a length of at most ${end - r.pos} bytes`, String(n));
  return r.pos + n;
}

/** Checks a length-delimited scalar against its message, then leaves the reader before it. */
function checkLength(r: Reader, wire: number, end: number, path: string): void {
  expectWire(wire, LEN, path);
  const at = r.pos;
  lengthEnd(r, end, path);
  r.pos = at;
}

function readString(r: Reader, wire: number, end: number, path: string): string {
  checkLength(r, wire, end, path);
  return r.string();
}

function readBytes(r: Reader, wire: number, end: number, path: string): Uint8Array {
  checkLength(r, wire, end, path);
  // Reader.bytes returns a view of the input (or a pooled Buffer); copy so the model owns it.
  return Uint8Array.from(r.bytes());
}

/** int64 as a JS number; values beyond 2^53 lose precision, as the previous decoder's did. */
function int64(r: Reader): number {
  return protobuf.util.LongBits.from(r.int64()).toNumber(false);
}

function readInt64(r: Reader, wire: number, path: string): number {
  expectWire(wire, VARINT, path);
  return int64(r);
}

function readInt32(r: Reader, wire: number, path: string): number {
  expectWire(wire, VARINT, path);
  return r.int32();
}

/** A repeated scalar, packed (one length-delimited run) or unpacked (one value per tag). */
function readRepeated(r: Reader, wire: number, end: number, path: string, scalarWire: number, read: () => number, out: number[]): void {
  if (wire === scalarWire) {
    out.push(read());
    return;
  }
  expectWire(wire, LEN, path);
  const e = lengthEnd(r, end, path);
  if (scalarWire === I32 && (e - r.pos) % 4 !== 0) throw FormatError.expected('INPUT_FORMAT', path, 'a packed length that is a multiple of 4', String(e - r.pos));
  while (r.pos < e) out.push(read());
  if (r.pos !== e) throw FormatError.input(path, `a packed value runs past the end of the run (byte ${r.pos}, run ends at ${e})`);
}

function decodeTensor(r: Reader, end: number, path: string): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int64Data: [] };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) readRepeated(r, wire, end, `${path}.dims`, VARINT, () => int64(r), t.dims);
    else if (field === 2) t.dataType = readInt32(r, wire, `${path}.dataType`);
    else if (field === 4) readRepeated(r, wire, end, `${path}.floatData`, I32, () => r.float(), t.floatData!);
    else if (field === 7) readRepeated(r, wire, end, `${path}.int64Data`, VARINT, () => int64(r), t.int64Data!);
    else if (field === 8) t.name = readString(r, wire, end, `${path}.name`);
    else if (field === 9) t.rawData = readBytes(r, wire, end, `${path}.rawData`);
    else return false;
    return true;
  });
  return t;
}

/** A length-delimited sub-message: checks the wire type and the length, then decodes it. */
function nested<T>(r: Reader, wire: number, end: number, path: string, decode: (r: Reader, end: number, path: string) => T): T {
  expectWire(wire, LEN, path);
  return decode(r, lengthEnd(r, end, path), path);
}

function decodeAttribute(r: Reader, end: number, path: string): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0, floats: [], ints: [] };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) a.name = readString(r, wire, end, `${path}.name`);
    else if (field === 2) {
      expectWire(wire, I32, `${path}.f`);
      a.f = r.float();
    } else if (field === 3) a.i = readInt64(r, wire, `${path}.i`);
    else if (field === 4) a.s = readBytes(r, wire, end, `${path}.s`);
    else if (field === 5) a.t = nested(r, wire, end, `${path}.t`, decodeTensor);
    else if (field === 7) readRepeated(r, wire, end, `${path}.floats`, I32, () => r.float(), a.floats!);
    else if (field === 8) readRepeated(r, wire, end, `${path}.ints`, VARINT, () => int64(r), a.ints!);
    else if (field === 20) a.type = readInt32(r, wire, `${path}.type`);
    else return false;
    return true;
  });
  return a;
}

function decodeNode(r: Reader, end: number, path: string): OnnxNode {
  const n: OnnxNode = { input: [], output: [], opType: '', attribute: [] };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) n.input.push(readString(r, wire, end, `${path}.input[${n.input.length}]`));
    else if (field === 2) n.output.push(readString(r, wire, end, `${path}.output[${n.output.length}]`));
    else if (field === 3) n.name = readString(r, wire, end, `${path}.name`);
    else if (field === 4) n.opType = readString(r, wire, end, `${path}.opType`);
    else if (field === 5) n.attribute!.push(nested(r, wire, end, `${path}.attribute[${n.attribute!.length}]`, decodeAttribute));
    else if (field === 6) n.docString = readString(r, wire, end, `${path}.docString`);
    else if (field === 7) n.domain = readString(r, wire, end, `${path}.domain`);
    else return false;
    return true;
  });
  return n;
}

function decodeDim(r: Reader, end: number, path: string): OnnxDim {
  const d: OnnxDim = {};
  readFields(r, end, path, (field, wire) => {
    if (field === 1) d.dimValue = readInt64(r, wire, `${path}.dimValue`);
    else if (field === 2) d.dimParam = readString(r, wire, end, `${path}.dimParam`);
    else return false;
    return true;
  });
  return d;
}

function decodeShape(r: Reader, end: number, path: string): { dim: OnnxDim[] } {
  const shape: { dim: OnnxDim[] } = { dim: [] };
  readFields(r, end, path, (field, wire) => {
    if (field !== 1) return false;
    shape.dim.push(nested(r, wire, end, `${path}.dim[${shape.dim.length}]`, decodeDim));
    return true;
  });
  return shape;
}

function decodeTensorType(r: Reader, end: number, path: string): OnnxValueInfo['type']['tensorType'] {
  const tt: OnnxValueInfo['type']['tensorType'] = { elemType: 0, shape: { dim: [] } };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) tt.elemType = readInt32(r, wire, `${path}.elemType`);
    else if (field === 2) tt.shape = nested(r, wire, end, `${path}.shape`, decodeShape);
    else return false;
    return true;
  });
  return tt;
}

function decodeType(r: Reader, end: number, path: string): OnnxValueInfo['type'] {
  const type: OnnxValueInfo['type'] = { tensorType: { elemType: 0, shape: { dim: [] } } };
  readFields(r, end, path, (field, wire) => {
    if (field !== 1) return false;
    type.tensorType = nested(r, wire, end, `${path}.tensorType`, decodeTensorType);
    return true;
  });
  return type;
}

function decodeValueInfo(r: Reader, end: number, path: string): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', type: { tensorType: { elemType: 0, shape: { dim: [] } } } };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) v.name = readString(r, wire, end, `${path}.name`);
    else if (field === 2) v.type = nested(r, wire, end, `${path}.type`, decodeType);
    else if (field === 3) v.docString = readString(r, wire, end, `${path}.docString`);
    else return false;
    return true;
  });
  return v;
}

function decodeGraph(r: Reader, end: number, path: string): OnnxGraph {
  const g: OnnxGraph = { name: '', node: [], initializer: [], input: [], output: [] };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) g.node.push(nested(r, wire, end, `${path}.node[${g.node.length}]`, decodeNode));
    else if (field === 2) g.name = readString(r, wire, end, `${path}.name`);
    else if (field === 5) g.initializer.push(nested(r, wire, end, `${path}.initializer[${g.initializer.length}]`, decodeTensor));
    else if (field === 10) g.docString = readString(r, wire, end, `${path}.docString`);
    else if (field === 11) g.input.push(nested(r, wire, end, `${path}.input[${g.input.length}]`, decodeValueInfo));
    else if (field === 12) g.output.push(nested(r, wire, end, `${path}.output[${g.output.length}]`, decodeValueInfo));
    else return false;
    return true;
  });
  return g;
}

function decodeOpset(r: Reader, end: number, path: string): { domain?: string; version: number } {
  const o: { domain?: string; version: number } = { version: 0 };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) o.domain = readString(r, wire, end, `${path}.domain`);
    else if (field === 2) o.version = readInt64(r, wire, `${path}.version`);
    else return false;
    return true;
  });
  return o;
}

function decodeEntry(r: Reader, end: number, path: string): { key: string; value: string } {
  const e = { key: '', value: '' };
  readFields(r, end, path, (field, wire) => {
    if (field === 1) e.key = readString(r, wire, end, `${path}.key`);
    else if (field === 2) e.value = readString(r, wire, end, `${path}.value`);
    else return false;
    return true;
  });
  return e;
}

/**
 * ModelProto from `bytes`. The graph is returned as `undefined` when absent so the caller
 * can name that error; every other malformation throws FormatError (or a protobufjs range
 * error the caller wraps) naming the field path under `path`.
 */
export function decodeModelMessage(bytes: Uint8Array, path: string): Omit<OnnxModel, 'graph'> & { graph?: OnnxGraph } {
  // The constructor, not Reader.create: create() rejects Uint8Arrays from another realm.
  const r = new protobuf.Reader(bytes);
  const m: Omit<OnnxModel, 'graph'> & { graph?: OnnxGraph } = { irVersion: 0, opsetImport: [], metadataProps: [] };
  const end = bytes.length;
  readFields(r, end, path, (field, wire) => {
    if (field === 1) m.irVersion = readInt64(r, wire, `${path}.irVersion`);
    else if (field === 2) m.producerName = readString(r, wire, end, `${path}.producerName`);
    else if (field === 3) m.producerVersion = readString(r, wire, end, `${path}.producerVersion`);
    else if (field === 4) m.domain = readString(r, wire, end, `${path}.domain`);
    else if (field === 5) m.modelVersion = readInt64(r, wire, `${path}.modelVersion`);
    else if (field === 6) m.docString = readString(r, wire, end, `${path}.docString`);
    else if (field === 7) m.graph = nested(r, wire, end, `${path}.graph`, decodeGraph);
    else if (field === 8) m.opsetImport.push(nested(r, wire, end, `${path}.opsetImport[${m.opsetImport.length}]`, decodeOpset));
    else if (field === 14) m.metadataProps!.push(nested(r, wire, end, `${path}.metadataProps[${m.metadataProps!.length}]`, decodeEntry));
    else return false;
    return true;
  });
  return m;
}

// ---------------------------------------------------------------- encoding

const tag = (field: number, wire: number): number => ((field << 3) | wire) >>> 0;

function int(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) throw new R2TalkerError('INTERNAL', `${what}: expected a safe integer to encode, got ${v}`);
  return v;
}

function str(w: Writer, field: number, v: string | undefined): void {
  if (v !== undefined && v !== null) w.uint32(tag(field, LEN)).string(v);
}

function i64(w: Writer, field: number, v: number | undefined, what: string): void {
  if (v !== undefined && v !== null) w.uint32(tag(field, VARINT)).int64(int(v, what));
}

function i32(w: Writer, field: number, v: number | undefined, what: string): void {
  if (v !== undefined && v !== null) w.uint32(tag(field, VARINT)).int32(int(v, what));
}

function bytesField(w: Writer, field: number, v: Uint8Array | undefined): void {
  if (v !== undefined && v !== null) w.uint32(tag(field, LEN)).bytes(v);
}

function packedInt64(w: Writer, field: number, v: number[] | undefined, what: string): void {
  if (!v || v.length === 0) return;
  w.uint32(tag(field, LEN)).fork();
  for (const x of v) w.int64(int(x, what));
  w.ldelim();
}

function packedFloat(w: Writer, field: number, v: number[] | undefined): void {
  if (!v || v.length === 0) return;
  w.uint32(tag(field, LEN)).fork();
  for (const x of v) w.float(x);
  w.ldelim();
}

function message<T>(w: Writer, field: number, v: T | undefined, encode: (w: Writer, v: T) => void): void {
  if (v === undefined || v === null) return;
  w.uint32(tag(field, LEN)).fork();
  encode(w, v);
  w.ldelim();
}

function encodeTensor(w: Writer, t: OnnxTensor): void {
  packedInt64(w, 1, t.dims, 'TensorProto.dims');
  i32(w, 2, t.dataType, 'TensorProto.dataType');
  packedFloat(w, 4, t.floatData);
  packedInt64(w, 7, t.int64Data, 'TensorProto.int64Data');
  str(w, 8, t.name);
  bytesField(w, 9, t.rawData);
}

function encodeAttribute(w: Writer, a: OnnxAttribute): void {
  str(w, 1, a.name);
  if (a.f !== undefined && a.f !== null) w.uint32(tag(2, I32)).float(a.f);
  i64(w, 3, a.i, 'AttributeProto.i');
  bytesField(w, 4, a.s);
  message(w, 5, a.t, encodeTensor);
  packedFloat(w, 7, a.floats);
  packedInt64(w, 8, a.ints, 'AttributeProto.ints');
  i32(w, 20, a.type, 'AttributeProto.type');
}

function encodeNode(w: Writer, n: OnnxNode): void {
  for (const s of n.input ?? []) str(w, 1, s);
  for (const s of n.output ?? []) str(w, 2, s);
  str(w, 3, n.name);
  str(w, 4, n.opType);
  for (const a of n.attribute ?? []) message(w, 5, a, encodeAttribute);
  str(w, 6, n.docString);
  str(w, 7, n.domain);
}

function encodeDim(w: Writer, d: OnnxDim): void {
  i64(w, 1, d.dimValue, 'TensorShapeProto.Dimension.dimValue');
  str(w, 2, d.dimParam);
}

function encodeValueInfo(w: Writer, v: OnnxValueInfo): void {
  str(w, 1, v.name);
  message(w, 2, v.type, (w2, type) =>
    message(w2, 1, type.tensorType, (w3, tt) => {
      i32(w3, 1, tt.elemType, 'TypeProto.Tensor.elemType');
      message(w3, 2, tt.shape, (w4, shape) => {
        for (const d of shape.dim ?? []) message(w4, 1, d, encodeDim);
      });
    }),
  );
  str(w, 3, v.docString);
}

function encodeGraph(w: Writer, g: OnnxGraph): void {
  for (const n of g.node ?? []) message(w, 1, n, encodeNode);
  str(w, 2, g.name);
  for (const t of g.initializer ?? []) message(w, 5, t, encodeTensor);
  str(w, 10, g.docString);
  for (const v of g.input ?? []) message(w, 11, v, encodeValueInfo);
  for (const v of g.output ?? []) message(w, 12, v, encodeValueInfo);
}

export function encodeModelMessage(m: OnnxModel): Uint8Array {
  const w = new protobuf.Writer();
  i64(w, 1, m.irVersion, 'ModelProto.irVersion');
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 4, m.domain);
  i64(w, 5, m.modelVersion, 'ModelProto.modelVersion');
  str(w, 6, m.docString);
  message(w, 7, m.graph, encodeGraph);
  for (const o of m.opsetImport ?? []) {
    message(w, 8, o, (w2, op) => {
      str(w2, 1, op.domain);
      i64(w2, 2, op.version, 'OperatorSetIdProto.version');
    });
  }
  for (const e of m.metadataProps ?? []) {
    message(w, 14, e, (w2, entry) => {
      str(w2, 1, entry.key);
      str(w2, 2, entry.value);
    });
  }
  const out = w.finish();
  // Writer.finish may hand back a slice of a shared pool; give the caller its own buffer.
  return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
}
