import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import type { Avatar, Tensor } from '../../worker/avatar/types.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';

function writeError(avatar: Avatar, opts?: Parameters<typeof writeAvatar>[1]): FormatError {
  let err: unknown = null;
  try {
    writeAvatar(avatar, opts);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected the writer to refuse').toBeInstanceOf(FormatError);
  expect((err as FormatError).code).toBe('AVATAR_FORMAT');
  return err as FormatError;
}

function withTensor(avatar: Avatar, t: Tensor): Avatar {
  const tensors = new Map(avatar.tensors);
  tensors.set(t.name, t);
  return { ...avatar, tensors };
}

describe('avatar writer refuses avatars the reader would reject', () => {
  it('refuses a NaN weight, naming the tensor', () => {
    const a = tinyAvatar();
    const w = a.tensors.get('color_net.net.1.weight')!;
    const data = (w.data as Float32Array).slice();
    data[2] = NaN;
    const e = writeError(withTensor(a, { ...w, data }));
    expect(e.field).toBe('tensors/color_net.net.1.weight');
    expect(e.message).toMatch('element 2 is not finite');
  });

  it('refuses a weight that overflows float16 when asked for float16', () => {
    const a = tinyAvatar();
    const w = a.tensors.get('color_net.net.1.weight')!;
    const data = (w.data as Float32Array).slice();
    data[0] = 1e6;
    const big = withTensor(a, { ...w, data });
    expect(() => writeAvatar(big, { weightDtype: 'float32' })).not.toThrow();
    const e = writeError(big, { weightDtype: 'float16' });
    expect(e.field).toBe('tensors/color_net.net.1.weight');
    expect(e.message).toMatch('element 0 is not finite');
  });

  it('refuses a tensor of the wrong shape and data that does not fill the shape', () => {
    const a = tinyAvatar();
    const w = a.tensors.get('sigma_net.net.0.weight')!;
    const e = writeError(withTensor(a, { ...w, shape: [9, 8] }));
    expect(e.field).toBe('tensors/sigma_net.net.0.weight');
    expect(e.message).toBe('tensors/sigma_net.net.0.weight: expected shape [8,9], got [9,8]');
    const short = writeError(withTensor(a, { ...w, data: new Float32Array(10) }));
    expect(short.message).toMatch('expected 72 elements for shape [8,9], got 10');
  });

  it('refuses data whose typed array does not match the dtype', () => {
    const a = tinyAvatar();
    const w = a.tensors.get('sigma_net.net.0.weight')!;
    const e = writeError(withTensor(a, { ...w, dtype: 'float16' }));
    expect(e.field).toBe('tensors/sigma_net.net.0.weight');
    expect(e.message).toMatch('data is not the typed array of dtype float16');
  });

  it('refuses a missing background and an invalid camera', () => {
    const a = tinyAvatar();
    const tensors = new Map(a.tensors);
    tensors.delete('background');
    expect(writeError({ ...a, tensors }).field).toBe('tensors/background');
    expect(writeError({ ...a, camera: { ...a.camera, fx: -1 } }).field).toBe('header.camera.fx');
  });

  it('refuses landmark stats that disagree with the landmark tensors or have a wrong length', () => {
    const a = tinyAvatar();
    const std = a.landmarkStats!.std.slice();
    std[0] += 1;
    expect(writeError({ ...a, landmarkStats: { ...a.landmarkStats!, std } }).field).toBe('tensors/landmark_std');
    const tensors = new Map(a.tensors);
    tensors.delete('landmark_mean');
    tensors.delete('landmark_std');
    const short = { ...a, tensors, landmarkStats: { ...a.landmarkStats!, mean: new Float32Array(3) } };
    expect(writeError(short).message).toMatch('tensors/landmark_mean: expected shape [204], got [3]');
  });

  it('writes stats from avatar.landmarkStats even when the tensors map lacks them', () => {
    const a = tinyAvatar();
    const tensors = new Map(a.tensors);
    tensors.delete('landmark_mean');
    tensors.delete('landmark_std');
    expect(writeAvatar({ ...a, tensors }).length).toBe(writeAvatar(a).length);
  });

  it('refuses an invalid provenance and an unknown tensor name', () => {
    const a = tinyAvatar();
    const p = writeError({ ...a, provenance: { source: 'x', nested: { a: 1 } as unknown as string } });
    expect(p.field).toBe('header.provenance.nested');
    const e = writeError(withTensor(a, { name: 'bogus', dtype: 'float32', shape: [1], data: new Float32Array(1) }));
    expect(e.field).toBe('tensors/bogus');
  });
});
