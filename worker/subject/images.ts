/**
 * Image access for subjects, platform-free: an ImageCodec interface (Node: images.node.ts
 * with pngjs/jpeg-js; a browser can use createImageBitmap/OffscreenCanvas), and header
 * parsers that learn a PNG's or JPEG's size and channels without decoding pixels, so a whole
 * subject can be checked up front in milliseconds.
 */
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import type { RgbJpegEncode } from './jpeg-encode.ts';

export interface SubjectImage {
  width: number;
  height: number;
  /** 3 = RGB, 4 = RGBA (straight alpha), interleaved row-major. */
  channels: 3 | 4;
  data: Uint8Array;
}

export interface ImageCodec {
  /** Decodes a PNG or JPEG; keeps alpha only when the file has it. `field` names the file in errors. */
  decode(bytes: Uint8Array, field: string): SubjectImage;
  encodePng(img: SubjectImage): Uint8Array;
  /** quality in [1, 100]; RGB only. */
  encodeJpeg(img: SubjectImage, quality: number): Uint8Array;
}

export interface ImageHeader {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  /** Colour channels the file declares (PNG colour type; JPEG component count, 1 or 3). */
  channels: number;
  /** PNG only: colour type 4 or 6, or a tRNS chunk before the first IDAT. */
  alpha: boolean;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

function checkSide(field: string, w: number, h: number): void {
  if (w < 1 || h < 1 || w > LIMITS.maxImageSide || h > LIMITS.maxImageSide) {
    throw FormatError.expected('INPUT_FORMAT', field, `an image within ${LIMITS.maxImageSide}x${LIMITS.maxImageSide}`, `${w}x${h}`);
  }
}

function pngHeader(b: Uint8Array, field: string): ImageHeader {
  if (b.length < 33 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) throw FormatError.input(field, 'truncated PNG (no IHDR chunk)');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  checkSide(field, width, height);
  const colorType = b[25];
  const channels = PNG_CHANNELS[colorType];
  if (channels === undefined) throw FormatError.input(field, `PNG colour type ${colorType} is not valid`);
  let alpha = colorType === 4 || colorType === 6;
  // Walk the chunk list up to the first IDAT looking for tRNS; bounded by the file length.
  for (let at = 33; !alpha && at + 8 <= b.length; ) {
    const len = u32be(b, at);
    const type = String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    if (type === 'IDAT') break;
    if (type === 'tRNS') alpha = true;
    at += 12 + len;
  }
  return { format: 'png', width, height, channels, alpha };
}

function jpegHeader(b: Uint8Array, field: string): ImageHeader {
  // Walk the marker segments to the first SOFn (baseline, progressive, ...), which holds the size.
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw FormatError.input(field, `corrupt JPEG (expected a marker at byte ${at})`);
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image or start of scan before any frame header
    const len = (b[at + 2] << 8) | b[at + 3];
    if (len < 2) throw FormatError.input(field, `corrupt JPEG (segment length ${len} at byte ${at})`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (at + 10 > b.length) break;
      const height = (b[at + 5] << 8) | b[at + 6];
      const width = (b[at + 7] << 8) | b[at + 8];
      checkSide(field, width, height);
      return { format: 'jpeg', width, height, channels: b[at + 9], alpha: false };
    }
    at += 2 + len;
  }
  throw FormatError.input(field, 'truncated JPEG (no frame header)');
}

/** Size and channels of a PNG or JPEG from its header only. Throws naming `field` when unreadable. */
export function readImageHeader(bytes: Uint8Array, field: string): ImageHeader {
  if (bytes.length >= 8 && PNG_SIG.every((v, i) => bytes[i] === v)) return pngHeader(bytes, field);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes, field);
  throw FormatError.input(field, 'not a PNG or JPEG file (unrecognised signature)');
}

/** Drops alpha (or checks it is already RGB); returns the same object when it is RGB. */
export function toRgb(img: SubjectImage): SubjectImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = img.data[i * 4];
    out[i * 3 + 1] = img.data[i * 4 + 1];
    out[i * 3 + 2] = img.data[i * 4 + 2];
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** An image an encoder may write: integer size within the limits, RGB or RGBA, bytes to match. */
export function checkImageToEncode(img: SubjectImage, field: string): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > LIMITS.maxImageSide || height > LIMITS.maxImageSide) {
    throw FormatError.expected('INPUT_FORMAT', field, `a size within ${LIMITS.maxImageSide}x${LIMITS.maxImageSide}`, `${width}x${height}`);
  }
  if ((channels !== 3 && channels !== 4) || !(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw FormatError.expected('INPUT_FORMAT', field, `${width * height * channels} bytes (${width}x${height}x${channels})`, String(data?.length));
  }
}

/** Checks an RGB image and a JPEG quality, then encodes with `encode`: every JPEG writer's entry. */
export function checkedJpeg(img: SubjectImage, quality: number, encode: RgbJpegEncode): Uint8Array {
  checkImageToEncode(img, 'jpeg');
  if (img.channels !== 3) throw FormatError.input('jpeg', 'expected an RGB image (JPEG has no alpha)');
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw FormatError.input('jpeg.quality', `expected an integer in [1, 100], got ${quality}`);
  return encode(img.data, img.width, img.height, quality);
}
