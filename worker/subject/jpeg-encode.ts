/**
 * Baseline RGB JPEG in pure JS (jpeg-js), for callers without libjpeg-turbo's wasm
 * (jpeg-turbo.ts, what the subject writer uses in Node and in the prepare worker), for images
 * too small for that encoder's buffer margin, and as the reference its quality is tested against.
 */
import jpeg from 'jpeg-js';

export type RgbJpegEncode = (rgb: Uint8Array, width: number, height: number, quality: number) => Uint8Array;

export const encodeRgbJpegJs: RgbJpegEncode = (rgb, width, height, quality) => {
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
};
