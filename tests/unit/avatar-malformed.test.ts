import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { bytesSource, type ByteSource } from '../../worker/avatar/source.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { centralRecordOffset, get32, put32, replaceEntry, rewriteHeader, storedZip, tinyAvatar, zipEntries } from '../helpers/tiny-avatar.ts';

const valid = writeAvatar(tinyAvatar({ generator: true }));
const W0 = 'tensors/sigma_net.net.0.weight.bin';

async function rejection(bytes: Uint8Array | ByteSource): Promise<FormatError> {
  const err = await readAvatar(bytes).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected the reader to reject').toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.code).toBe('AVATAR_FORMAT');
  return fe;
}

async function expectRejected(bytes: Uint8Array, field: string, message: string | RegExp): Promise<void> {
  const e = await rejection(bytes);
  expect(e.field).toBe(field);
  expect(e.message).toMatch(message);
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe('avatar reader rejects malformed files with AVATAR_FORMAT naming the field', () => {
  it('the valid base file loads (control)', async () => {
    await expect(readAvatar(valid)).resolves.toBeTruthy();
  });

  it('rejects a wrong magic in the mimetype entry', async () => {
    const bytes = replaceEntry(valid, 'mimetype', new TextEncoder().encode('application/x-r2talker-avatax'));
    await expectRejected(bytes, 'mimetype', /not an avatar file/);
  });

  it('rejects a file that is not a zip at all, and an empty file', async () => {
    await expectRejected(new TextEncoder().encode('\x89PNG\r\n\x1a\n'.padEnd(200, 'x')), 'mimetype', /expected an R2 Talker avatar/);
    await expectRejected(new Uint8Array(0), 'mimetype', /got a 0-byte file/);
  });

  it('rejects a mimetype entry that is not the first in the central directory', async () => {
    const entries = zipEntries(valid);
    // local order unchanged (magic still at offset 38) but the central directory lists header.json first
    const bytes = storedZip(entries);
    const cdStart = get32(bytes, bytes.length - 22 + 16);
    const first = centralRecordOffset(bytes, 'mimetype');
    const second = centralRecordOffset(bytes, 'header.json');
    const a = bytes.slice(first, second);
    const secondLen = 46 + 'header.json'.length;
    const b = bytes.slice(second, second + secondLen);
    bytes.set(b, cdStart);
    bytes.set(a, cdStart + secondLen);
    await expectRejected(bytes, 'mimetype', /first entry/);
  });

  it('rejects a file made by a newer format version with a specific message', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.version = 2;
    });
    await expectRejected(bytes, 'header.version', /made by a newer version of R2 Talker.*version 2/);
  });

  it('rejects a header.json over the size bound without reading it', async () => {
    const big = new Uint8Array(5 << 20).fill(0x20);
    big[0] = 0x7b; // '{'
    big[big.length - 1] = 0x7d;
    const bytes = replaceEntry(valid, 'header.json', big);
    const inner = bytesSource(bytes);
    let largest = 0;
    const spy: ByteSource = { size: inner.size, read: (o, n) => ((largest = Math.max(largest, n)), inner.read(o, n)) };
    const e = await rejection(spy);
    expect(e.field).toBe('header.json');
    expect(e.message).toMatch(/expected at most 4194304 bytes, got 5242880/);
    expect(largest).toBeLessThan(1 << 20);
  });

  it('rejects header.json that is not JSON', async () => {
    await expectRejected(replaceEntry(valid, 'header.json', new TextEncoder().encode('{"format": ')), 'header.json', /not valid JSON/);
  });

  it('rejects a missing tensor', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors = h.tensors.filter((t) => t.name !== 'sigma_net.net.1.weight');
    });
    const pruned = storedZip(zipEntries(bytes).filter((e) => e.name !== 'tensors/sigma_net.net.1.weight.bin'));
    await expectRejected(pruned, 'tensors/sigma_net.net.1.weight', /missing \(expected float32 or float16 \[8,8\]\)/);
  });

  it('rejects a tensor of the wrong shape, naming expected and actual shapes', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'sigma_net.net.0.weight')!.shape = [8, 8];
    });
    await expectRejected(bytes, 'tensors/sigma_net.net.0.weight', 'expected shape [8,9], got [8,8]');
  });

  it('rejects a tensor of a dtype its spec does not allow', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'density_bitfield')!.dtype = 'float32';
    });
    await expectRejected(bytes, 'tensors/density_bitfield', 'expected dtype uint8, got float32');
    const code = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'individual_code')!.dtype = 'float16';
    });
    await expectRejected(code, 'tensors/individual_code', 'expected dtype float32, got float16');
  });

  it('rejects a NaN weight, naming the tensor and element', async () => {
    const w = zipEntries(valid).find((e) => e.name === W0)!.data.slice();
    new Float32Array(w.buffer)[5] = NaN;
    await expectRejected(replaceEntry(valid, W0, w), 'tensors/sigma_net.net.0.weight', 'element 5 is not finite');
  });

  it('rejects an infinite float16 weight', async () => {
    const half = writeAvatar(tinyAvatar(), { weightDtype: 'float16' });
    const w = zipEntries(half).find((e) => e.name === W0)!.data.slice();
    new Uint16Array(w.buffer)[3] = 0x7c00; // +Inf
    await expectRejected(replaceEntry(half, W0, w), 'tensors/sigma_net.net.0.weight', 'element 3 is not finite');
  });

  it('rejects a landmark_std that is not strictly positive', async () => {
    const std = new Float32Array(68 * 3).fill(0.1);
    std[7] = 0;
    await expectRejected(replaceEntry(valid, 'tensors/landmark_std.bin', new Uint8Array(std.buffer)), 'tensors/landmark_std', 'element 7 must be > 0');
  });

  it('rejects an entry whose local header offset lies past the end of the file', async () => {
    const bytes = valid.slice();
    put32(bytes, centralRecordOffset(bytes, W0) + 42, 0x7fffff00);
    await expectRejected(bytes, W0, /local header offset 2147483392 is past the end/);
  });

  it('rejects an entry whose data runs past the central directory', async () => {
    const bytes = valid.slice();
    const cd = centralRecordOffset(bytes, 'generator.onnx');
    const lho = get32(bytes, cd + 42);
    for (const at of [cd + 20, cd + 24, lho + 18, lho + 22]) put32(bytes, at, 1 << 20);
    await expectRejected(bytes, 'generator.onnx', /data \[\d+, \d+\) runs past the end of the entry data/);
  });

  it('rejects overlapping entries', async () => {
    const bytes = valid.slice();
    const a = get32(bytes, centralRecordOffset(bytes, W0) + 42);
    put32(bytes, centralRecordOffset(bytes, 'tensors/sigma_net.net.1.weight.bin') + 42, a + 4);
    const e = await rejection(bytes);
    expect(e.message).toMatch(/overlaps entry tensors\/sigma_net\.net\.0\.weight\.bin/);
  });

  it('rejects a duplicated entry', async () => {
    const entries = zipEntries(valid);
    const dup = entries.find((e) => e.name === W0)!;
    await expectRejected(storedZip([...entries, dup]), W0, 'appears more than once in the archive');
  });

  it('rejects a compressed entry (method 8), also as written by zipSync with deflate', async () => {
    const entries = zipEntries(valid).map((e) => (e.name === W0 ? { ...e, method: 8 } : e));
    await expectRejected(storedZip(entries), W0, 'compression method 8, expected 0 (stored)');
    const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
    for (const e of zipEntries(valid)) files[e.name] = [e.data, { level: e.name === W0 ? 6 : 0 }];
    await expectRejected(zipSync(files), W0, 'compression method 8');
  });

  it('rejects a background of the wrong size', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'background')!.shape = [12, 15, 3];
    });
    const fixed = replaceEntry(bytes, 'tensors/background.bin', new Uint8Array(12 * 15 * 3));
    await expectRejected(fixed, 'tensors/background', 'expected shape [12,16,3], got [12,15,3]');
  });

  it('rejects an entry whose size disagrees with the header shape (truncated tensor)', async () => {
    const w = zipEntries(valid).find((e) => e.name === W0)!.data;
    await expectRejected(replaceEntry(valid, W0, w.subarray(0, w.length - 4)), 'tensors/sigma_net.net.0.weight', 'entry holds 284 bytes, expected 288 for float32 [8,9]');
  });

  it('rejects corrupted tensor bytes by checksum', async () => {
    const bytes = valid.slice();
    const lho = get32(bytes, centralRecordOffset(bytes, W0) + 42);
    bytes[lho + 30 + W0.length + 10] ^= 0x40;
    await expectRejected(bytes, 'tensors/sigma_net.net.0.weight', /checksum .* does not match/);
  });

  it('rejects an invalid config, naming the config field under header.config', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.config.head.hiddenDim = 0;
    });
    await expectRejected(bytes, 'header.config.head.hiddenDim', /expected an integer in \[1, 1024\], got 0/);
    const cam = rewriteHeader(valid, (h) => {
      h.camera.width = 1e9;
    });
    await expectRejected(cam, 'header.camera.width', /expected an integer/);
  });

  it('rejects poses of the wrong shape and eye values that do not match the poses', async () => {
    const poses = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'poses')!.shape = [3, 16];
    });
    await expectRejected(poses, 'tensors/poses', 'expected shape [N,4,4]');
    const eye = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'eye')!.shape = [4];
    });
    await expectRejected(replaceEntry(eye, 'tensors/eye.bin', f32Bytes([0, 0, 0, 0])), 'tensors/eye', 'expected shape [3], got [4]');
  });

  it('rejects unknown tensors and undeclared entries', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors.push({ name: 'extra', dtype: 'float32', shape: [1], entry: 'tensors/extra.bin' });
    });
    const withEntry = storedZip([...zipEntries(bytes), { name: 'tensors/extra.bin', data: f32Bytes([1]) }]);
    await expectRejected(withEntry, 'tensors/extra', 'is not a tensor of this model configuration');
    const stray = storedZip([...zipEntries(valid), { name: 'notes.txt', data: new Uint8Array(3) }]);
    await expectRejected(stray, 'notes.txt', 'is an entry the header does not declare');
  });

  it('rejects landmark stats tensors without header.landmarkStats, and a generator size mismatch', async () => {
    const noStats = rewriteHeader(valid, (h) => {
      h.landmarkStats = null;
    });
    await expectRejected(noStats, 'tensors/landmark_mean', 'present but header.landmarkStats is null');
    const gen = rewriteHeader(valid, (h) => {
      h.generator!.bytes = 301;
    });
    await expectRejected(gen, 'generator.onnx', 'entry holds 300 bytes, expected header.generator.bytes = 301');
  });

  it('rejects hostile huge shapes before allocating', async () => {
    const bytes = rewriteHeader(valid, (h) => {
      h.tensors.find((t) => t.name === 'poses')!.shape = [2 ** 40, 4, 4];
    });
    await expectRejected(bytes, 'header.tensors[24].shape', /exceeds the 1073741824-byte tensor limit/);
  });
});
