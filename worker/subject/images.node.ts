/** ImageCodecs for Node: pngjs (PNG, lossless, alpha kept when present), jpeg-js (JPEG), and for
 * `prepare` the same with libjpeg-turbo's wasm encoding its JPEGs (nodePrepareCodec). */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodeRgbJpegJs, type RgbJpegEncode } from './jpeg-encode.ts';
import { turboJpegEncoder, TURBO_JPEG_WASM } from './jpeg-turbo.ts';
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { checkedJpeg, checkImageToEncode, readImageHeader, type ImageCodec } from './images.ts';

function rgbaTo(data: Uint8Array, n: number, channels: 3 | 4): Uint8Array {
  if (channels === 4) return new Uint8Array(data.buffer, data.byteOffset, n * 4).slice();
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = data[i * 4];
    out[i * 3 + 1] = data[i * 4 + 1];
    out[i * 3 + 2] = data[i * 4 + 2];
  }
  return out;
}

let turbo: RgbJpegEncode | null = null;

/** Compiled on first use: importing the codec stays cheap for the many callers that only decode. */
function encodeTurbo(rgb: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  if (!turbo) {
    const file = createRequire(import.meta.url).resolve(`${TURBO_JPEG_WASM.pkg}/wasm`);
    turbo = turboJpegEncoder(readFileSync(file));
  }
  return turbo(rgb, width, height, quality);
}

export const nodeImageCodec: ImageCodec = {
  decode(bytes, field) {
    const header = readImageHeader(bytes, field);
    const n = header.width * header.height;
    if (header.format === 'png') {
      let png: { width: number; height: number; data: Buffer };
      try {
        png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (e) {
        throw FormatError.input(field, `corrupt PNG (${(e as Error).message})`, e);
      }
      const channels = header.alpha ? 4 : 3;
      return { width: png.width, height: png.height, channels, data: rgbaTo(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), n, channels) };
    }
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: (LIMITS.maxImageSide * LIMITS.maxImageSide) / 1e6, maxMemoryUsageInMB: 512 });
    } catch (e) {
      throw FormatError.input(field, `corrupt JPEG (${(e as Error).message})`, e);
    }
    return { width: img.width, height: img.height, channels: 3, data: rgbaTo(img.data, n, 3) };
  },

  encodePng(img) {
    checkImageToEncode(img, 'png');
    const colorType = img.channels === 4 ? 6 : 2;
    const png = new PNG({ width: img.width, height: img.height, colorType, inputColorType: colorType, inputHasAlpha: img.channels === 4 });
    png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    // Paeth filter on every row and zlib level 6: ~3x faster than pngjs' default (adaptive filter
    // choice, level 9) for ~5% larger files (measured on 512 px parsing and torso images).
    const out = PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: img.channels === 4, filterType: 4, deflateLevel: 6 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },

  encodeJpeg(img, quality) {
    return checkedJpeg(img, quality, encodeRgbJpegJs);
  },
};

/**
 * What `prepare` writes subjects with: JPEG through libjpeg-turbo (~4-7x faster at 512 px, the
 * write stage's largest cost). The other writers (synth-subject, tests' fixtures) keep jpeg-js:
 * their subjects' bytes, and the training results pinned on them, stay as they were
 * (tests/unit/nerf-train.test.ts's mouth check moves from pass to fail on the turbo bytes).
 */
export const nodePrepareCodec: ImageCodec = {
  ...nodeImageCodec,
  encodeJpeg(img, quality) {
    return checkedJpeg(img, quality, encodeTurbo);
  },
};
