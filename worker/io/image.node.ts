/**
 * PNG/JPEG decoding to RGB uint8, area resizing, and PNG encoding for written frames (Node:
 * pngjs needs zlib). Decoding is bounded: the declared size is checked before pixels are
 * allocated. jpeg-js is not libjpeg, so a decoded JPEG can differ from OpenCV's by a few
 * levels; PNG decoding is exact.
 */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { resizeArea } from './resize.ts';

export { resizeArea } from './resize.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, width*height*3 bytes. */
  rgb: Uint8Array;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function checkSize(field: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > LIMITS.maxImageSide || height > LIMITS.maxImageSide) {
    throw FormatError.expected('INPUT_FORMAT', field, `a size within ${LIMITS.maxImageSide}x${LIMITS.maxImageSide}`, `${width}x${height}`);
  }
}

function dropAlpha(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    out[j] = rgba[i];
    out[j + 1] = rgba[i + 1];
    out[j + 2] = rgba[i + 2];
  }
  return out;
}

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIG.every((v, i) => b[i] === v);
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decodes a PNG or JPEG (by signature) to RGB; any alpha channel is dropped. */
export function decodeImage(bytes: Uint8Array, field = 'image'): RgbImage {
  if (!(bytes instanceof Uint8Array)) throw FormatError.input(field, 'expected a Uint8Array');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng(bytes)) {
    if (bytes.length < 24) throw FormatError.input(field, 'truncated PNG header');
    checkSize(field, buf.readUInt32BE(16), buf.readUInt32BE(20));
    let png: { width: number; height: number; data: Buffer };
    try {
      png = PNG.sync.read(buf);
    } catch (e) {
      throw FormatError.input(field, `corrupt PNG (${(e as Error).message})`, e);
    }
    return { width: png.width, height: png.height, rgb: dropAlpha(png.data, png.width, png.height) };
  }
  if (isJpeg(bytes)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: (LIMITS.maxImageSide * LIMITS.maxImageSide) / 1e6,
        maxMemoryUsageInMB: 512,
      });
    } catch (e) {
      throw FormatError.input(field, `corrupt or oversized JPEG (${(e as Error).message})`, e);
    }
    checkSize(field, img.width, img.height);
    return { width: img.width, height: img.height, rgb: dropAlpha(img.data, img.width, img.height) };
  }
  throw FormatError.input(field, 'expected a PNG or JPEG file (unrecognised signature)');
}

/** Decodes and, when the size differs, resizes with cv2.INTER_AREA semantics (the reference's bc.jpg handling). */
export function loadBackground(bytes: Uint8Array, width: number, height: number): RgbImage {
  const img = decodeImage(bytes, 'background');
  return { width, height, rgb: resizeArea(img.rgb, img.width, img.height, width, height, 3) };
}

/** Encodes an RGB image as an 8-bit RGB PNG. */
export function encodePng(img: RgbImage): Uint8Array {
  checkSize('image', img.width, img.height);
  if (!(img.rgb instanceof Uint8Array) || img.rgb.length !== img.width * img.height * 3) {
    throw FormatError.expected('INPUT_FORMAT', 'image.rgb', `${img.width * img.height * 3} bytes`, String(img.rgb?.length));
  }
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength);
  const out = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
