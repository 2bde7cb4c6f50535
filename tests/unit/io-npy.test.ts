import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { readNpy, writeNpy, type NpyArray } from '../../worker/io/npy.ts';
import { PYTHON } from '../helpers/import-fixtures.ts';

/** An .npy file with a hand-written header (padded like numpy, data appended). */
function npyWith(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const padded = header.padEnd(Math.ceil((pre + header.length + 1) / 64) * 64 - pre - 1, ' ') + '\n';
  const out = new Uint8Array(pre + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, padded.length, true);
  else v.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[pre + i] = padded.charCodeAt(i);
  out.set(data, pre + padded.length);
  return out;
}

function rejects(bytes: Uint8Array, message: string | RegExp): void {
  let caught: unknown;
  try {
    readNpy(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as FormatError).code).toBe('INPUT_FORMAT');
  if (typeof message === 'string') expect((caught as FormatError).message).toBe(message);
  else expect((caught as FormatError).message).toMatch(message);
}

const numpy = spawnSync(PYTHON, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0;

describe('writeNpy / readNpy', () => {
  const cases: NpyArray[] = [
    { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, Number.NaN, 1e-30, 6]) },
    { dtype: 'float64', shape: [2], data: new Float64Array([Math.PI, -0]) },
    { dtype: 'int32', shape: [1, 1, 2], data: new Int32Array([-7, 2 ** 31 - 1]) },
    { dtype: 'int64', shape: [2], data: new BigInt64Array([-5n, 2n ** 40n]) },
    { dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 254, 255]) },
    { dtype: 'int16', shape: [], data: new Int16Array([-3]) },
    { dtype: 'bool', shape: [0, 3], data: new Uint8Array(0) },
  ];

  it.each(cases)('round-trips $dtype $shape', (arr) => {
    const back = readNpy(writeNpy(arr));
    expect(back.dtype).toBe(arr.dtype);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data).toEqual(arr.data);
  });

  it('reads a Node Buffer that is a view into a larger pool (readFileSync, Buffer.from) as the file, not the pool', () => {
    const file = writeNpy(cases[0]);
    const pool = Buffer.alloc(file.length + 64, 0x7f);
    pool.set(file, 40);
    const back = readNpy(pool.subarray(40, 40 + file.length));
    expect(back.shape).toEqual([2, 3]);
    expect(back.data).toEqual(cases[0].data);
  });

  it('pads the header to 64 bytes with a trailing newline, as numpy does', () => {
    const bytes = writeNpy(cases[0]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[10 + headerLen - 1]).toBe(0x0a);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLen)).trim()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  });

  it('reads version 2 headers and byte-swaps big-endian data', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2, false);
    const arr = readNpy(npyWith("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be, 2));
    expect(Array.from(arr.data as Float32Array)).toEqual([1.5, -2]);
  });

  it.skipIf(!numpy)('writes byte-identical files to numpy.save and reads numpy\'s files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      const script = [
        'import numpy as np, sys',
        "np.save(sys.argv[1] + '/a.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 7)",
        "np.save(sys.argv[1] + '/b.npy', np.array([[1, -2], [3, 4]], dtype=np.int32))",
        "np.save(sys.argv[1] + '/c.npy', np.arange(5, dtype=np.uint8))",
      ].join('\n');
      const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const a = readFileSync(join(dir, 'a.npy'));
      const parsed = readNpy(new Uint8Array(a));
      expect(parsed.shape).toEqual([3, 4]);
      expect(Array.from(parsed.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7)));
      expect(Buffer.from(writeNpy(parsed)).equals(a)).toBe(true);
      for (const name of ['b.npy', 'c.npy']) {
        const raw = readFileSync(join(dir, name));
        expect(Buffer.from(writeNpy(readNpy(new Uint8Array(raw)))).equals(raw), name).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readNpy rejects malformed files', () => {
  const f4 = (shape: string, bytes: number): Uint8Array => npyWith(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`, new Uint8Array(bytes));

  it('rejects a wrong magic or an unknown version', () => {
    rejects(new Uint8Array(20), 'npy.magic: expected \\x93NUMPY (not an .npy file)');
    const v9 = f4('(1,)', 4);
    v9[6] = 9;
    rejects(v9, 'npy.version: expected 1, 2 or 3, got 9');
  });

  it('rejects a header longer than the file', () => {
    const b = f4('(1,)', 4);
    new DataView(b.buffer).setUint16(8, 60000, true);
    rejects(b, /npy\.header: length 60000 exceeds the file/);
  });

  it('rejects Fortran order, object and complex dtypes', () => {
    rejects(npyWith("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)), 'npy.fortran_order: expected False (C order), got True');
    rejects(npyWith("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /npy\.header: expected descr/);
    rejects(npyWith("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), "npy.descr: expected a float32/float64/int/uint/bool dtype, got '<c8'");
  });

  it('rejects data that does not match the shape, and huge shapes before allocating', () => {
    rejects(f4('(3,)', 8), 'npy.data: expected 12 bytes for shape (3) of float32, got 8');
    rejects(f4('(100000, 100000, 100000)', 8), /npy\.shape: \(100000, 100000, 100000\) of float32 exceeds the \d+-byte limit/);
    rejects(f4('(-1,)', 8), /npy\.shape: expected non-negative integers/);
  });
});
