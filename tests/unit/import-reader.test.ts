import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { float16BitsToFloat32 } from '../../worker/avatar/tensor.ts';
import { readTorchCheckpoint } from '../../worker/import/checkpoint.ts';
import { openTorchZip, readZipEntry } from '../../worker/import/torch-zip.ts';
import { TensorRef, unpickle, type PyValue } from '../../worker/import/torch-pickle.ts';
import { TINY_DIR, readBytes } from '../helpers/import-fixtures.ts';
import { Pickler, floatBytes, stateDictPickle, torchArchive, type FakeTensor } from '../helpers/torch-writer.ts';

const tiny = (): Uint8Array => readBytes(join(TINY_DIR, 'tiny.pth'));
const tinyValues = JSON.parse(readFileSync(join(TINY_DIR, 'tiny.values.json'), 'utf8')) as Record<string, number[]>;

function rejects(fn: () => unknown, pattern: RegExp): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  const err = caught as FormatError;
  expect(err.code).toBe('CHECKPOINT_FORMAT');
  expect(err.message).toMatch(pattern);
  return err;
}

function archive(tensors: FakeTensor[], storages: Record<string, Uint8Array>, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const entries: Record<string, Uint8Array> = { 'data.pkl': stateDictPickle(tensors), ...extra };
  for (const [k, v] of Object.entries(storages)) entries[`data/${k}`] = v;
  return torchArchive('ck', entries);
}

/** Byte offset of an entry's data inside the archive. */
function dataOffset(bytes: Uint8Array, rel: string): number {
  const zip = openTorchZip(bytes);
  const e = zip.entries.get(rel);
  if (!e) throw new Error(`no ${rel}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return e.localHeaderOffset + 30 + v.getUint16(e.localHeaderOffset + 26, true) + v.getUint16(e.localHeaderOffset + 28, true);
}

function storageKeys(v: PyValue, out: Set<string>, depth = 0): Set<string> {
  if (depth > 20) return out;
  if (v instanceof TensorRef) out.add(v.storage.key);
  else if (Array.isArray(v)) v.forEach((x) => storageKeys(x, out, depth + 1));
  else if (v instanceof Map) v.forEach((x) => storageKeys(x, out, depth + 1));
  return out;
}

describe('readTorchCheckpoint on a real torch.save file (tiny fixture)', () => {
  it('returns every model tensor with the dtype, shape and values torch saved', () => {
    const ck = readTorchCheckpoint(tiny());
    expect(ck.root).toBe('tiny');
    expect([...ck.model.keys()].sort()).toEqual(Object.keys(tinyValues).sort());
    for (const [key, t] of ck.model) {
      const want = tinyValues[key];
      let got: number[];
      if (t.dtype === 'float16') got = Array.from(float16BitsToFloat32(t.data as Uint16Array));
      else got = Array.from(t.data as ArrayLike<number>, Number);
      const expected = t.dtype === 'float32' || t.dtype === 'float16' ? want.map(Math.fround) : want;
      expect(got, key).toEqual(expected);
      expect(t.data.length, key).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    expect(ck.model.get('encoder.embeddings')?.dtype).toBe('float16');
    expect(ck.model.get('mlp_lms_style_1.net.1.weight')?.dtype).toBe('float64');
    expect(ck.model.get('density_bitfield')?.dtype).toBe('uint8');
    expect(ck.model.get('encoder.offsets')?.dtype).toBe('int32');
  });

  it('keeps the other top-level entries as plain values with tensors left as descriptors', () => {
    const ck = readTorchCheckpoint(tiny());
    expect(ck.top.epoch).toBe(10);
    expect(ck.top.global_step).toBe(200000);
    expect(ck.top.mean_density).toBe(3.75);
    expect((ck.top.stats as { loss: number[] }).loss).toEqual([0.0123, 0.0101]);
    const opt = ck.top.optimizer as { state: Record<string, { exp_avg: unknown }> };
    expect(opt.state['0'].exp_avg).toEqual({ __tensor__: { dtype: 'float32', shape: [3, 4] } });
    expect('model' in ck.top).toBe(false);
  });

  it('never reads optimizer or EMA storages: corrupting one changes nothing, corrupting a model storage is caught by CRC', () => {
    const bytes = tiny();
    const zip = openTorchZip(bytes);
    const root = unpickle(readZipEntry(zip, 'data.pkl')) as Map<PyValue, PyValue>;
    const modelKeys = storageKeys(root.get('model') as PyValue, new Set());
    const otherKeys = storageKeys(root.get('optimizer') as PyValue, new Set());
    const onlyOptimizer = [...otherKeys].find((k) => !modelKeys.has(k)) as string;
    expect(onlyOptimizer).toBeDefined();
    const a = bytes.slice();
    a[dataOffset(a, `data/${onlyOptimizer}`)] ^= 0xff;
    expect(readTorchCheckpoint(a).model.size).toBe(ck0().model.size);
    const modelKey = [...modelKeys][0];
    const b = bytes.slice();
    b[dataOffset(b, `data/${modelKey}`)] ^= 0xff;
    rejects(() => readTorchCheckpoint(b), /CRC-32 mismatch/);
  });

  it('skips tensors the caller excludes but still checks their storage sizes', () => {
    const ck = readTorchCheckpoint(tiny(), { include: (k) => k !== 'density_grid' });
    expect(ck.model.has('density_grid')).toBe(false);
    expect(ck.index.get('density_grid')).toEqual({ dtype: 'float32', shape: [1, 512] });
  });
});

function ck0() {
  return readTorchCheckpoint(tiny());
}

describe('readTorchCheckpoint on crafted archives', () => {
  const twelve = floatBytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

  it('honours strides, storage offsets, 0-d tensors and shared storages', () => {
    const ck = readTorchCheckpoint(
      archive(
        [
          { key: 't', storage: '0', numel: 12, shape: [3, 2], stride: [1, 3] },
          { key: 'slice', storage: '0', numel: 12, offset: 5, shape: [2], stride: [2] },
          { key: 'scalar', storage: '0', numel: 12, offset: 11, shape: [], stride: [] },
          { key: 'whole', storage: '0', numel: 12, shape: [2, 6] },
        ],
        { '0': twelve },
      ),
    );
    expect(Array.from(ck.model.get('t')!.data as Float32Array)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(ck.model.get('slice')!.data as Float32Array)).toEqual([5, 7]);
    expect(Array.from(ck.model.get('scalar')!.data as Float32Array)).toEqual([11]);
    expect(ck.model.get('whole')!.shape).toEqual([2, 6]);
    expect(ck.top.epoch).toBe(1);
  });

  it('reads deflated entries too (a re-zipped checkpoint)', () => {
    const files = { 'ck/data.pkl': stateDictPickle([{ key: 'w', storage: '0', numel: 12, shape: [12] }]), 'ck/data/0': twelve };
    const ck = readTorchCheckpoint(zipSync(files, { level: 6 }));
    expect(Array.from(ck.model.get('w')!.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('accepts a bare state dict as the reference loader does', () => {
    const p = new Pickler();
    p.global('collections', 'OrderedDict').op(0x29, 0x52).mark().str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cuda:0').int(12).tuple().op(0x51);
    p.int(0).ints([12]).ints([1]).op(0x89).op(0x29).tuple().op(0x52).op(0x75);
    const ck = readTorchCheckpoint(torchArchive('bare', { 'data.pkl': p.finish(), 'data/0': twelve }));
    expect(ck.model.get('w')!.shape).toEqual([12]);
  });

  it('rejects a view that reaches past its storage, naming the key', () => {
    const bytes = archive([{ key: 'b', storage: '0', numel: 12, offset: 10, shape: [2, 2], stride: [2, 1] }], { '0': twelve });
    const e = rejects(() => readTorchCheckpoint(bytes), /reaches element 13 of a 12-element storage/);
    expect(e.field).toBe('model.b');
  });

  it('rejects a storage whose entry size disagrees with its declared element count', () => {
    const bytes = archive([{ key: 'w', storage: '0', numel: 2 ** 30, shape: [4] }], { '0': twelve });
    rejects(() => readTorchCheckpoint(bytes), /expected 4294967296 bytes \(1073741824 x float32\), got 48/);
  });

  it('rejects absurd shapes without allocating them', () => {
    const bytes = archive([{ key: 'w', storage: '0', numel: 12, shape: [2 ** 30, 2 ** 30], stride: [0, 0] }], { '0': twelve });
    rejects(() => readTorchCheckpoint(bytes), /model\.w: shape \[1073741824,1073741824\] is too large/);
  });

  it('rejects a missing storage entry and an unknown storage class', () => {
    rejects(() => readTorchCheckpoint(archive([{ key: 'w', storage: '7', numel: 12, shape: [12] }], { '0': twelve })), /data\/7 is missing/);
    const odd = archive([{ key: 'w', storage: '0', numel: 6, shape: [6], storageType: 'ComplexFloatStorage' }], { '0': twelve });
    rejects(() => readTorchCheckpoint(odd), /unsupported storage type torch\.ComplexFloatStorage/);
    const proto = archive([{ key: 'w', storage: '0', numel: 3, shape: [3], storageType: 'constructor' }], { '0': twelve });
    rejects(() => readTorchCheckpoint(proto), /unsupported storage type torch\.constructor/);
  });

  it('rejects a big-endian archive', () => {
    const bytes = archive([{ key: 'w', storage: '0', numel: 12, shape: [12] }], { '0': twelve }, { byteorder: new TextEncoder().encode('big') });
    rejects(() => readTorchCheckpoint(bytes), /byteorder: expected "little"/);
  });

  it('rejects files that are not torch zips', () => {
    rejects(() => readTorchCheckpoint(new Uint8Array([0x80, 2, 0x7d, 0x2e])), /expected a zip file/);
    rejects(() => readTorchCheckpoint(torchArchive('x', { 'other.bin': twelve })), /data\.pkl: missing/);
  });

  it('rejects a truncated zip', () => {
    const bytes = tiny();
    rejects(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 10)), /end-of-central-directory/);
    rejects(() => readTorchCheckpoint(bytes.subarray(0, 1000)), /end-of-central-directory/);
  });
});

describe('unpickle', () => {
  const raw = (...ops: number[]): Uint8Array => new Uint8Array([0x80, 2, ...ops]);

  it('rejects an unknown opcode naming its byte offset', () => {
    rejects(() => unpickle(raw(0x7d, 0xff, 0x2e)), /unsupported pickle opcode 0xff at byte 3/);
  });

  it('rejects truncation, underflow, undefined memo and a string longer than the file', () => {
    rejects(() => unpickle(raw(0x7d)), /missing STOP/);
    rejects(() => unpickle(raw(0x73, 0x2e)), /stack underflow/);
    rejects(() => unpickle(raw(0x68, 5, 0x2e)), /memo 5 undefined/);
    rejects(() => unpickle(raw(0x58, 0xf0, 0xff, 0xff, 0xff, 0x61)), /BINUNICODE at byte 7 needs 4294967280 bytes/);
    rejects(() => unpickle(raw(0x8b, 0xff, 0xff, 0xff, 0x7f)), /LONG4 of 2147483647 bytes/);
  });

  it('never calls anything the stream names: unknown globals become inert objects', () => {
    const p = new Pickler();
    p.global('os', 'system').mark().str('rm -rf /').tuple().op(0x52);
    const v = unpickle(p.finish());
    expect(v).toMatchObject({ callee: { module: 'os', name: 'system' }, args: ['rm -rf /'] });
  });

  it('survives self-referencing lists, and the reader bounds their conversion', () => {
    // top = {'model': OrderedDict(), 'loop': L} where L contains itself
    const p = new Pickler();
    p.op(0x7d).str('model').global('collections', 'OrderedDict').op(0x29, 0x52).op(0x73);
    p.str('loop').op(0x5d, 0x71, 0, 0x68, 0, 0x61).op(0x73);
    const pkl = p.finish();
    expect(() => unpickle(pkl)).not.toThrow();
    rejects(() => readTorchCheckpoint(torchArchive('c', { 'data.pkl': pkl })), /nested deeper than 64/);
  });
});
