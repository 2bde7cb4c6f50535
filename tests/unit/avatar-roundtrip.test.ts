import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { R2TalkerError } from '../../worker/errors.ts';
import { expectedTensors } from '../../worker/avatar/config.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { bytesSource, blobSource, type ByteSource } from '../../worker/avatar/source.ts';
import { withFileSource } from '../../worker/avatar/source.node.ts';
import { float32ToFloat16Bits, toFloat32 } from '../../worker/avatar/tensor.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar, type TinyAvatarOptions } from '../helpers/tiny-avatar.ts';

function expectSameAvatar(got: Avatar, want: Avatar): void {
  expect(got.name).toBe(want.name);
  expect(got.config).toEqual(want.config);
  expect(got.camera).toEqual(want.camera);
  expect(got.provenance).toEqual(want.provenance);
  expect(got.generator).toEqual(want.generator);
  expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
  if (want.landmarkStats) {
    expect(got.landmarkStats?.frames).toBe(want.landmarkStats.frames);
    expect(got.landmarkStats?.mean).toEqual(want.landmarkStats.mean);
    expect(got.landmarkStats?.std).toEqual(want.landmarkStats.std);
  } else {
    expect(got.landmarkStats).toBeNull();
  }
}

const variants: [string, TinyAvatarOptions][] = [
  ['torso, eye input, stats, generator', { torso: true, eyeInput: true, stats: true, generator: true }],
  ['no torso, no eye input, no stats, no generator', { torso: false, eyeInput: false, stats: false, generator: false }],
  ['hash grids, torso, eye input without eye tensor', { gridType: 'hash', eyeInput: true, eye: false, seed: 7 }],
  ['no torso, eye input, generator, no stats', { torso: false, generator: true, stats: false, seed: 3 }],
];

describe('avatar round trip', () => {
  for (const [label, opts] of variants) {
    it(`float32 round trip is bit-exact (${label})`, async () => {
      const avatar = tinyAvatar(opts);
      const back = await readAvatar(writeAvatar(avatar, { weightDtype: 'float32' }));
      expectSameAvatar(back, avatar);
      for (const [name, t] of avatar.tensors) {
        const g = back.tensors.get(name)!;
        expect(g.dtype, name).toBe(t.dtype);
        expect(g.shape, name).toEqual(t.shape);
        expect(g.data, name).toEqual(t.data);
      }
    });

    it(`float16 weights round trip within half rounding (${label})`, async () => {
      const avatar = tinyAvatar(opts);
      const back = await readAvatar(writeAvatar(avatar, { weightDtype: 'float16' }));
      expectSameAvatar(back, avatar);
      const halfNames = new Set(expectedTensors(avatar.config).filter((s) => s.dtypes.includes('float16')).map((s) => s.name));
      for (const [name, t] of avatar.tensors) {
        const g = back.tensors.get(name)!;
        if (halfNames.has(name)) {
          expect(g.dtype, name).toBe('float16');
          expect(g.data, name).toBeInstanceOf(Uint16Array);
          // exactly the half bits the writer's conversion produces, and numerically close
          expect(g.data, name).toEqual(float32ToFloat16Bits(t.data as Float32Array));
          const want = t.data as Float32Array;
          const got = toFloat32(g);
          const far: number[] = [];
          // half rounding: relative 2^-11 for normals, absolute 2^-25 for subnormals
          for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= Math.abs(want[i]) * 2 ** -11 + 2 ** -25)) far.push(i);
          expect(far, name).toEqual([]);
        } else {
          expect(g.dtype, name).toBe(t.dtype);
          expect(g.data, name).toEqual(t.data);
        }
      }
    });
  }

  it('keepFloat16: false returns float16 weights converted to float32', async () => {
    const avatar = tinyAvatar({ torso: false });
    const back = await readAvatar(writeAvatar(avatar, { weightDtype: 'float16' }), { keepFloat16: false });
    for (const t of back.tensors.values()) expect(t.dtype, t.name).not.toBe('float16');
    const w = back.tensors.get('sigma_net.net.0.weight')!;
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(w.data).toEqual(toFloat32({ ...w, dtype: 'float16', data: float32ToFloat16Bits(avatar.tensors.get(w.name)!.data as Float32Array) }));
  });

  it('writing keeps each tensor dtype when weightDtype is not given, and float16 input can be written as float32', async () => {
    const half = await readAvatar(writeAvatar(tinyAvatar({ torso: false }), { weightDtype: 'float16' }));
    const kept = await readAvatar(writeAvatar(half));
    expect(kept.tensors.get('encoder.embeddings')!.dtype).toBe('float16');
    const widened = await readAvatar(writeAvatar(half, { weightDtype: 'float32' }));
    const t = widened.tensors.get('encoder.embeddings')!;
    expect(t.dtype).toBe('float32');
    expect(t.data).toEqual(toFloat32(half.tensors.get('encoder.embeddings')!));
  });

  it('writer output is deterministic for the same avatar', () => {
    const a = writeAvatar(tinyAvatar({ seed: 5 }));
    const b = writeAvatar(tinyAvatar({ seed: 5 }));
    expect(a.length).toBe(b.length);
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('the file starts with the stored mimetype entry, so the magic sits at offset 38', () => {
    const bytes = writeAvatar(tinyAvatar());
    expect(new TextDecoder().decode(bytes.subarray(30, 38))).toBe('mimetype');
    expect(new TextDecoder().decode(bytes.subarray(38, 38 + 29))).toBe('application/x-r2talker-avatar');
  });

  it('reads the same avatar from a Uint8Array, a Blob and a Node file', async () => {
    const avatar = tinyAvatar({ generator: true });
    const bytes = writeAvatar(avatar);
    const dir = mkdtempSync(join(tmpdir(), 'r2t-'));
    try {
      const path = join(dir, 'tiny.r2t');
      writeFileSync(path, bytes);
      const fromFile = await withFileSource(path, (src) => readAvatar(src));
      const fromBlob = await readAvatar(blobSource(new Blob([bytes as Uint8Array<ArrayBuffer>])));
      const fromBytes = await readAvatar(bytesSource(bytes));
      for (const got of [fromFile, fromBlob, fromBytes]) {
        expectSameAvatar(got, avatar);
        expect(got.tensors.get('mlp_lms_style_1.net.0.weight')!.data).toEqual(avatar.tensors.get('mlp_lms_style_1.net.0.weight')!.data);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('avatar reader progress and abort', () => {
  it('reports monotonic progress that ends at the total', async () => {
    const bytes = writeAvatar(tinyAvatar());
    const calls: [number, number][] = [];
    await readAvatar(bytes, { onProgress: (loaded, total) => calls.push([loaded, total]) });
    expect(calls.length).toBeGreaterThan(10); // one per tensor at least
    expect(calls[0][0]).toBe(0);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
    for (const [, total] of calls) expect(total).toBe(bytes.length);
    expect(calls[calls.length - 1]).toEqual([bytes.length, bytes.length]);
  });

  it('reads tensors one at a time: the largest single read is the largest tensor', async () => {
    const bytes = writeAvatar(tinyAvatar());
    const inner = bytesSource(bytes);
    const sizes: number[] = [];
    const spy: ByteSource = { size: inner.size, read: (o, n) => (sizes.push(n), inner.read(o, n)) };
    await readAvatar(spy);
    const largestTensor = 8 * 68 * 5 * 2 * 2 * 4;
    expect(Math.max(...sizes)).toBe(largestTensor);
  });

  it('an already aborted signal rejects with ABORTED before reading', async () => {
    const controller = new AbortController();
    controller.abort();
    const bytes = writeAvatar(tinyAvatar());
    let reads = 0;
    const src: ByteSource = { size: bytes.length, read: (o, n) => (reads++, bytesSource(bytes).read(o, n)) };
    const err = await readAvatar(src, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(R2TalkerError);
    expect((err as R2TalkerError).code).toBe('ABORTED');
    expect(reads).toBe(0);
  });

  it('aborting mid-load rejects with ABORTED and stops reading tensors', async () => {
    const controller = new AbortController();
    const bytes = writeAvatar(tinyAvatar());
    let calls = 0;
    let callsAtAbort = -1;
    const err = await readAvatar(bytes, {
      signal: controller.signal,
      onProgress: () => {
        calls++;
        if (calls === 5) {
          controller.abort();
          callsAtAbort = calls;
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(R2TalkerError);
    expect((err as R2TalkerError).code).toBe('ABORTED');
    expect(calls).toBe(callsAtAbort);
  });
});
