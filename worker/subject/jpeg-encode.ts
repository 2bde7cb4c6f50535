/**
 * Baseline RGB JPEG through jpeg-js, shared by the Node codec and the extension's worker encoder
 * so both write the same bytes. jpeg-js takes RGBA, hence the one copy.
 */
import jpeg from 'jpeg-js';

export function encodeRgbJpeg(rgb: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  const n = width * height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    rgba[i * 4] = rgb[j];
    rgba[i * 4 + 1] = rgb[j + 1];
    rgba[i * 4 + 2] = rgb[j + 2];
    rgba[i * 4 + 3] = 255;
  }
  const out = jpeg.encode({ data: rgba, width, height }, quality).data as Uint8Array;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
