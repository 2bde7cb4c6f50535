import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { build } from 'esbuild';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import {
  ATTR_FLOAT,
  ATTR_INT,
  ATTR_INTS,
  ATTR_STRING,
  MAX_ONNX_BYTES,
  ONNX_FLOAT,
  ONNX_INT64,
  decodeOnnx,
  encodeOnnx,
  floatTensor,
  floatValueInfo,
  int64Tensor,
  tensorFloats,
  type OnnxModel,
} from '../../worker/io/onnx-proto.ts';
import type { LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';

const ROOT = new URL('../../', import.meta.url);
const DEFAULT_ONNX = new Uint8Array(readFileSync(new URL('assets/generator/default.onnx', ROOT)));
// The default generator as it was when the digests below were captured (replaced in issue 12);
// kept so that the comparison with the old decoder stays a comparison with another decoder.
const PINNED_ONNX = new Uint8Array(readFileSync(new URL('tests/fixtures/generator/pre-issue12.onnx', ROOT)));

// Captured from the protobufjs-reflection decoder this codec replaced, on PINNED_ONNX.
const DEFAULT_GENERATOR_SHA256 = '5a7b3c6bde58675442220761927823627d8bd4b47a3ee3854732d92f3dec9d62';
const DEFAULT_METADATA_SHA256 = 'e34ed2e5cd0500bf52a3d344b92fcbe3063a120e68541a74d35ff304c6a1ff23';
// What the reflection encoder wrote for `compatModel()`.
const REFLECTION_BYTES =
  '08081201701a01763203646f633ae8010a5c0a01610a001201621a016e2204436f6e762a0b0a0166150000c03fa001012a110a016918fdffffffffffffffff01a001022a0a0a017322020102a001032a1a0a026973421100ffffffffffffffffff01808080808020a001073a01641201672a230a02020310014201774a180000803f0000004000004040000080400000a040000000bf2a1b0a010310073a1101ffffffffffffffffff018080808080204201732a130a0102100122080000803e000000c0420266645a180a016112130a110801120d0a0208010a0312016e0a02085062140a0162120f0a0d080112090a0208010a0312016d42040a00101142090a05636f6d2e781001720b0a016b120676c3a46c7565';

function generatorDigest(g: LandmarkGenerator): string {
  const h = createHash('sha256');
  for (const a of [g.featMean, g.featScale, ...g.layers.flatMap((l) => [l.weight, l.bias]), g.outMean, g.outScale]) {
    h.update(new Uint8Array(Float32Array.from(a).buffer));
  }
  const layers = g.layers.map(({ name, cin, cout, kernel, stride, dilation, relu }) => ({ name, cin, cout, kernel, stride, dilation, relu }));
  h.update(JSON.stringify({ lookAhead: g.lookAhead, space: g.space, layers }));
  return h.digest('hex');
}

function compatModel(): OnnxModel {
  return {
    irVersion: 8,
    producerName: 'p',
    producerVersion: 'v',
    docString: 'doc',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.x', version: 1 },
    ],
    metadataProps: [{ key: 'k', value: 'välue' }],
    graph: {
      name: 'g',
      node: [
        {
          input: ['a', ''],
          output: ['b'],
          name: 'n',
          opType: 'Conv',
          domain: 'd',
          attribute: [
            { name: 'f', type: ATTR_FLOAT, f: 1.5 },
            { name: 'i', type: ATTR_INT, i: -3 },
            { name: 's', type: ATTR_STRING, s: new Uint8Array([1, 2]) },
            { name: 'is', type: ATTR_INTS, ints: [0, -1, 2 ** 40] },
          ],
        },
      ],
      initializer: [
        floatTensor('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, -0.5])),
        int64Tensor('s', [3], [1, -1, 2 ** 40]),
        { name: 'fd', dims: [2], dataType: ONNX_FLOAT, floatData: [0.25, -2] },
      ],
      input: [floatValueInfo('a', [1, 'n', 80])],
      output: [floatValueInfo('b', [1, 'm'])],
    },
  };
}

/** Every field the codec knows, with repeated fields spelled out as the decoder returns them. */
function fullModel(): OnnxModel {
  const tensor = { name: 'inner', dims: [2], dataType: ONNX_INT64, floatData: [], int64Data: [-(2 ** 52), 2 ** 52] };
  return {
    irVersion: 9,
    producerName: 'prod',
    producerVersion: '1.2',
    domain: 'ai.test',
    modelVersion: 12345678901,
    docString: 'model doc 🎙',
    opsetImport: [{ domain: '', version: 17 }, { version: 3 }],
    metadataProps: [
      { key: 'a', value: '' },
      { key: 'ключ', value: 'значение' },
    ],
    graph: {
      name: 'graph',
      docString: 'graph doc',
      node: [
        {
          input: ['x', 'w'],
          output: ['y'],
          name: 'node0',
          opType: 'Custom',
          domain: 'ai.test',
          docString: 'node doc',
          attribute: [
            { name: 'f', type: ATTR_FLOAT, f: -0.125, floats: [], ints: [] },
            { name: 'i', type: ATTR_INT, i: -(2 ** 45), floats: [], ints: [] },
            { name: 's', type: ATTR_STRING, s: new Uint8Array([0, 255, 7]), floats: [], ints: [] },
            { name: 't', type: 4, t: tensor, floats: [], ints: [] },
            { name: 'fs', type: 6, floats: [1.5, -3.25, 0], ints: [] },
            { name: 'is', type: ATTR_INTS, floats: [], ints: [-1, 0, 1, 2 ** 33] },
          ],
        },
        { input: [], output: ['z'], opType: 'Constant', attribute: [] },
      ],
      initializer: [
        { name: 'raw', dims: [2, 2], dataType: ONNX_FLOAT, rawData: new Uint8Array(16).fill(0x3f), floatData: [], int64Data: [] },
        { name: 'floats', dims: [3], dataType: ONNX_FLOAT, floatData: [0.5, -1, 1e-3].map(Math.fround), int64Data: [] },
        { name: 'longs', dims: [], dataType: ONNX_INT64, floatData: [], int64Data: [-7] },
      ],
      input: [{ ...floatValueInfo('x', [1, 'n', 80]), docString: 'input doc' }],
      output: [floatValueInfo('y', ['batch', 0])],
    },
  };
}

function expectInputError(fn: () => unknown, pattern: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    expect((e as FormatError).code).toBe('INPUT_FORMAT');
    expect((e as FormatError).message).toMatch(pattern);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ONNX protobuf codec', () => {
  it('round-trips every field it knows through encode and decode', () => {
    const model = fullModel();
    const back = decodeOnnx(encodeOnnx(model));
    expect(back).toEqual(model);
    expect(back.graph.node[0].attribute![3].t!.int64Data).toEqual([-(2 ** 52), 2 ** 52]);
  });

  it('writes the same bytes as the reflection encoder it replaced', () => {
    expect(hex(encodeOnnx(compatModel()))).toBe(REFLECTION_BYTES);
  });

  it('decodes the pinned generator to the generator and metadata the reflection decoder gave, and re-encodes it byte for byte', () => {
    const g = generatorFromOnnx(PINNED_ONNX);
    expect(g.layers.length).toBe(5);
    expect(generatorDigest(g)).toBe(DEFAULT_GENERATOR_SHA256);
    const model = decodeOnnx(PINNED_ONNX);
    expect(createHash('sha256').update(JSON.stringify(model.metadataProps)).digest('hex')).toBe(DEFAULT_METADATA_SHA256);
    const again = encodeOnnx(model);
    expect(again.length).toBe(PINNED_ONNX.length);
    expect(hex(again) === hex(PINNED_ONNX)).toBe(true);
  });

  it('re-encodes the committed default.onnx byte for byte', () => {
    const model = decodeOnnx(DEFAULT_ONNX);
    expect(generatorFromOnnx(DEFAULT_ONNX).layers.length).toBe(5);
    expect(hex(encodeOnnx(model)) === hex(DEFAULT_ONNX)).toBe(true);
  });

  it('reads unpacked repeated scalars, mixed with packed runs, like packed ones', () => {
    const w = new protobuf.Writer();
    const tensor = new protobuf.Writer();
    tensor.uint32((1 << 3) | 0).int64(2).uint32((1 << 3) | 0).int64(3); // dims unpacked
    tensor.uint32((2 << 3) | 0).int32(ONNX_FLOAT);
    tensor.uint32((4 << 3) | 5).float(1).uint32((4 << 3) | 2).fork().float(2).float(3).ldelim(); // float_data mixed
    for (const v of [4, 5, 6]) tensor.uint32((4 << 3) | 5).float(v);
    tensor.uint32((7 << 3) | 0).int64(-1).uint32((7 << 3) | 0).int64(2 ** 40); // int64_data unpacked
    tensor.uint32((8 << 3) | 2).string('t');
    const attr = new protobuf.Writer();
    attr.uint32((1 << 3) | 2).string('perm');
    for (const v of [0, 2, 1]) attr.uint32((8 << 3) | 0).int64(v); // ints unpacked
    for (const v of [0.5, -0.5]) attr.uint32((7 << 3) | 5).float(v); // floats unpacked
    attr.uint32((20 << 3) | 0).int32(ATTR_INTS);
    const node = new protobuf.Writer();
    node.uint32((4 << 3) | 2).string('Transpose').uint32((5 << 3) | 2).bytes(attr.finish());
    const graph = new protobuf.Writer();
    graph.uint32((1 << 3) | 2).bytes(node.finish()).uint32((5 << 3) | 2).bytes(tensor.finish());
    w.uint32((1 << 3) | 0).int64(8).uint32((7 << 3) | 2).bytes(graph.finish());
    const m = decodeOnnx(w.finish());
    const t = m.graph.initializer[0];
    expect(t.dims).toEqual([2, 3]);
    expect(t.int64Data).toEqual([-1, 2 ** 40]);
    expect(Array.from(tensorFloats(t, 't'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.graph.node[0].attribute![0]).toEqual({ name: 'perm', type: ATTR_INTS, ints: [0, 2, 1], floats: [0.5, -0.5] });
  });

  it('skips unknown fields of every wire type, at the top level and inside nested messages', () => {
    const unknown = (): Uint8Array => {
      const u = new protobuf.Writer();
      u.uint32((99 << 3) | 0).uint64(123456789);
      u.uint32((100 << 3) | 1).fixed64(7);
      u.uint32((101 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
      u.uint32((102 << 3) | 5).fixed32(9);
      u.uint32((103 << 3) | 3).uint32((1 << 3) | 0).uint32(5).uint32((103 << 3) | 4); // a group
      return u.finish();
    };
    const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
    const tensor = cat(unknown(), new protobuf.Writer().uint32((8 << 3) | 2).string('w').uint32((1 << 3) | 2).fork().int64(1).ldelim().finish(), unknown());
    const node = cat(new protobuf.Writer().uint32((4 << 3) | 2).string('Relu').finish(), unknown());
    const graph = cat(unknown(), new protobuf.Writer().uint32((1 << 3) | 2).bytes(node).uint32((5 << 3) | 2).bytes(tensor).uint32((2 << 3) | 2).string('g').finish());
    const entry = cat(new protobuf.Writer().uint32((1 << 3) | 2).string('k').finish(), unknown(), new protobuf.Writer().uint32((2 << 3) | 2).string('v').finish());
    const model = cat(unknown(), new protobuf.Writer().uint32((1 << 3) | 0).int64(8).uint32((7 << 3) | 2).bytes(graph).uint32((14 << 3) | 2).bytes(entry).finish(), unknown());
    const back = decodeOnnx(model);
    expect(back.irVersion).toBe(8);
    expect(back.graph.name).toBe('g');
    expect(back.graph.node.map((n) => n.opType)).toEqual(['Relu']);
    expect(back.graph.initializer).toEqual([{ name: 'w', dims: [1], dataType: 0, floatData: [], int64Data: [] }]);
    expect(back.metadataProps).toEqual([{ key: 'k', value: 'v' }]);
  });

  it('reads raw_data as little-endian float32 and floatTensor writes it that way', () => {
    const t = floatTensor('x', [2], Float32Array.from([1, -2]));
    expect(hex(t.rawData!)).toBe('0000803f000000c0');
    const raw = { name: 'r', dims: [2], dataType: ONNX_FLOAT, rawData: Uint8Array.from([0, 0, 0x80, 0x3f, 0, 0, 0x40, 0xc0]) };
    expect(Array.from(tensorFloats(raw, 'r'))).toEqual([1, -3]);
    // A view that does not start at byte 0 of its buffer.
    const padded = new Uint8Array(11);
    padded.set(raw.rawData, 3);
    expect(Array.from(tensorFloats({ ...raw, rawData: padded.subarray(3) }, 'r'))).toEqual([1, -3]);
    expectInputError(() => tensorFloats({ ...raw, dims: [3] }, 'r'), /r\.rawData: expected 12 bytes, got 8/);
    expectInputError(() => tensorFloats({ ...raw, dims: [-2, -1] }, 'r'), /r\.dims\[0\]: expected a non-negative integer/);
    expectInputError(() => tensorFloats({ ...raw, dataType: ONNX_INT64 }, 'r'), /r\.dataType/);
  });
});

describe('ONNX protobuf codec on hostile input', () => {
  it('rejects every truncation of default.onnx with INPUT_FORMAT, naming the graph when the cut falls in it', () => {
    const t0 = performance.now();
    for (const cut of [1, 2, 10]) expectInputError(() => decodeOnnx(DEFAULT_ONNX.subarray(0, cut)), /^onnx/);
    for (const cut of [100, 1000, 10_000, 100_000, 400_000, 800_000]) {
      expectInputError(() => decodeOnnx(DEFAULT_ONNX.subarray(0, cut)), /^onnx\.graph: expected a length of at most/);
    }
    for (let i = 1; i <= 200; i++) {
      const cut = Math.floor((DEFAULT_ONNX.length * i) / 201);
      expectInputError(() => generatorFromOnnx(DEFAULT_ONNX.subarray(0, cut)), /^generator/);
    }
    // In the trailing metadata a cut can fall between two entries: that is a shorter valid
    // model, so it must decode to a prefix of the metadata; every other cut is an error.
    const meta = decodeOnnx(DEFAULT_ONNX).metadataProps!;
    let shorterValid = 0;
    for (let cut = DEFAULT_ONNX.length - 1; cut > DEFAULT_ONNX.length - 400; cut--) {
      let m: OnnxModel;
      try {
        m = decodeOnnx(DEFAULT_ONNX.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect((e as FormatError).code).toBe('INPUT_FORMAT');
        continue;
      }
      shorterValid++;
      expect(m.metadataProps!.length).toBeLessThan(meta.length);
      expect(m.metadataProps).toEqual(meta.slice(0, m.metadataProps!.length));
    }
    expect(shorterValid).toBeGreaterThan(0);
    expect(shorterValid).toBeLessThan(meta.length);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('lets only FormatError INPUT_FORMAT out of decodeOnnx on random bytes, and the generator reader rejects them all', () => {
    let s = 0x9e3779b9;
    const rand = (): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    const t0 = performance.now();
    let rejected = 0;
    for (let k = 0; k < 2000; k++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      try {
        decodeOnnx(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect((e as FormatError).code).toBe('INPUT_FORMAT');
        rejected++;
      }
      expectInputError(() => generatorFromOnnx(bytes), /^generator/);
    }
    expect(rejected).toBeGreaterThan(1900);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('rejects lying lengths, wrong wire types, bad packed runs, field 0, deep groups and oversize input, naming the field', () => {
    expectInputError(() => decodeOnnx(Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /onnx\.graph: expected a length of at most 0 bytes, got 4294967295/);
    expectInputError(() => decodeOnnx(Uint8Array.from([0x0a, 0x01, 0x00])), /onnx\.irVersion: expected wire type varint, got length-delimited/);
    expectInputError(() => decodeOnnx(Uint8Array.from([0x00, 0x01])), /onnx: field number 0/);
    // graph { initializer { float_data packed with 3 bytes } }
    expectInputError(() => decodeOnnx(Uint8Array.from([0x3a, 0x07, 0x2a, 0x05, 0x22, 0x03, 1, 2, 3])), /onnx\.graph\.initializer\[0\]\.floatData: expected a packed length that is a multiple of 4, got 3/);
    // graph { node { name: length 5 but the node holds only 2 more bytes } }
    expectInputError(() => decodeOnnx(Uint8Array.from([0x3a, 0x06, 0x0a, 0x04, 0x1a, 0x05, 0x61, 0x62, 0x63])), /onnx\.graph\.node\[0\]\.name: expected a length of at most 2 bytes, got 5/);
    // graph { node { attribute { f: a float cut after 2 bytes } } } irVersion: 8
    expectInputError(
      () => decodeOnnx(Uint8Array.from([0x3a, 0x07, 0x0a, 0x05, 0x2a, 0x03, 0x15, 0x00, 0x00, 0x08, 0x08])),
      /onnx\.graph\.node\[0\]\.attribute\[0\]: a field runs past the end of the message/,
    );
    // graph missing entirely
    expectInputError(() => decodeOnnx(Uint8Array.from([0x08, 0x08])), /onnx\.graph: missing/);
    // 100k nested start-groups of an unknown field: bounded by the reader's recursion limit.
    const t0 = performance.now();
    expectInputError(() => decodeOnnx(new Uint8Array(100_000).fill((9 << 3) | 3)), /^onnx: not an ONNX protobuf/);
    expect(performance.now() - t0).toBeLessThan(1000);
    const big = new Uint8Array(MAX_ONNX_BYTES + 1);
    expectInputError(() => decodeOnnx(big, 'gen'), new RegExp(`gen: expected at most ${MAX_ONNX_BYTES} bytes, got ${MAX_ONNX_BYTES + 1}`));
  });
});

describe('ONNX decoding under a CSP without unsafe-eval', () => {
  async function bundle(source: string): Promise<string> {
    const out = await build({
      stdin: { contents: source, resolveDir: new URL('.', ROOT).pathname, loader: 'ts' },
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'lib',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    return out.outputFiles[0].text;
  }

  function noEvalContext(): vm.Context {
    const ctx = vm.createContext({}, { codeGeneration: { strings: false, wasm: false } });
    vm.runInContext('globalThis.self = globalThis;', ctx);
    return ctx;
  }

  it('decodeOnnx and generatorFromOnnx run where Function and eval are refused, and give the same generator', async () => {
    const code = await bundle(
      "export { decodeOnnx, encodeOnnx } from './worker/io/onnx-proto.ts'; export { generatorFromOnnx } from './worker/landmarks/onnx-export.ts';",
    );
    const ctx = noEvalContext();
    expect(() => vm.runInContext('new Function("return 1")', ctx)).toThrow(/Code generation from strings disallowed/);
    vm.runInContext(code, ctx);
    ctx.input = PINNED_ONNX;
    const g = vm.runInContext('lib.generatorFromOnnx(new Uint8Array(input))', ctx) as LandmarkGenerator;
    expect(generatorDigest(g)).toBe(DEFAULT_GENERATOR_SHA256);
    const again = vm.runInContext('lib.encodeOnnx(lib.decodeOnnx(new Uint8Array(input)))', ctx) as Uint8Array;
    expect(again.length).toBe(PINNED_ONNX.length);
  });

  it('the same context refuses protobufjs reflection decoding (the check can fail)', async () => {
    const code = await bundle(
      `import protobuf from 'protobufjs/light.js';
       export function decode(bytes: Uint8Array) {
         const root = protobuf.Root.fromJSON({ nested: { M: { fields: { irVersion: { id: 1, type: 'int64' } } } } });
         return root.lookupType('M').decode(bytes);
       }`,
    );
    const ctx = noEvalContext();
    vm.runInContext(code, ctx);
    expect(() => vm.runInContext('lib.decode(new Uint8Array([8, 8]))', ctx)).toThrow(/Code generation from strings disallowed/);
  });
});
