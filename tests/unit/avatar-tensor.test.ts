import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { LIMITS } from '../../worker/avatar/config.ts';
import { crc32 } from '../../worker/io/zip.ts';
import { firstNonFinite, float16BitsToFloat32, float32ToFloat16Bits, tensorByteLength, toFloat32, typedArrayFromBytes } from '../../worker/avatar/tensor.ts';

describe('tensor dtype helpers', () => {
  it('float32ToFloat16Bits produces IEEE half bits with round-to-nearest-even', () => {
    const bits = float32ToFloat16Bits(Float32Array.from([0, -0, 1, -2, 65504, 1e6, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, NaN]));
    expect(Array.from(bits.subarray(0, 9))).toEqual([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x3c00, 0x3c02]);
    expect(bits[9] & 0x7c00).toBe(0x7c00);
    expect(bits[9] & 0x03ff).not.toBe(0);
  });

  it('float16BitsToFloat32 inverts the conversion for every finite half value', () => {
    const all = new Uint16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i;
    const f = float16BitsToFloat32(all);
    expect(f[0x3c00]).toBe(1);
    expect(f[0x0001]).toBe(2 ** -24);
    expect(f[0xfc00]).toBe(-Infinity);
    const finite = Array.from(all).filter((h) => (h & 0x7c00) !== 0x7c00);
    const back = float32ToFloat16Bits(Float32Array.from(finite, (h) => f[h]));
    expect(Array.from(back)).toEqual(finite);
  });

  it('toFloat32 converts float16, uint8 and int32 tensors and returns float32 data as is', () => {
    const f32 = Float32Array.from([1.5, -2]);
    expect(toFloat32({ name: 'a', dtype: 'float32', shape: [2], data: f32 })).toBe(f32);
    expect(Array.from(toFloat32({ name: 'b', dtype: 'float16', shape: [2], data: Uint16Array.from([0x3e00, 0xc000]) }))).toEqual([1.5, -2]);
    expect(Array.from(toFloat32({ name: 'c', dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 255]) }))).toEqual([0, 255]);
    expect(Array.from(toFloat32({ name: 'd', dtype: 'int32', shape: [1], data: Int32Array.from([-7]) }))).toEqual([-7]);
  });

  it('tensorByteLength multiplies dims by the dtype size', () => {
    expect(tensorByteLength('float32', [8, 9])).toBe(288);
    expect(tensorByteLength('float16', [3])).toBe(6);
    expect(tensorByteLength('uint8', [12, 16, 3])).toBe(576);
  });

  it('tensorByteLength throws FormatError for non-positive, fractional, too many or too large dims', () => {
    for (const shape of [[0], [-1, 2], [1.5], [], [1, 1, 1, 1, 1, 1, 1, 1, 1], [LIMITS.maxTensorBytes / 2, 2], [2 ** 40, 2 ** 40]]) {
      expect(() => tensorByteLength('float32', shape, 'tensors/x'), JSON.stringify(shape)).toThrow(FormatError);
    }
    expect(tensorByteLength('uint8', [LIMITS.maxTensorBytes])).toBe(LIMITS.maxTensorBytes);
    expect(() => tensorByteLength('uint8', [LIMITS.maxTensorBytes + 1], 'tensors/x')).toThrow(/tensors\/x: shape/);
  });

  it('typedArrayFromBytes copies into an aligned array even from an odd offset', () => {
    const raw = new Uint8Array(9);
    new DataView(raw.buffer).setFloat32(1, 3.25, true);
    new DataView(raw.buffer).setFloat32(5, -1, true);
    const t = typedArrayFromBytes('float32', raw.subarray(1));
    expect(t).toBeInstanceOf(Float32Array);
    expect(Array.from(t)).toEqual([3.25, -1]);
  });

  it('firstNonFinite finds NaN/Inf in float32 and float16 data only', () => {
    expect(firstNonFinite(Float32Array.from([0, 1, Infinity]), 'float32')).toBe(2);
    expect(firstNonFinite(Uint16Array.from([0x3c00, 0x7e00]), 'float16')).toBe(1);
    expect(firstNonFinite(Uint16Array.from([0x3c00, 0x7bff]), 'float16')).toBe(-1);
    expect(firstNonFinite(Uint8Array.from([255]), 'uint8')).toBe(-1);
  });

  it('crc32 matches the zip reference value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
