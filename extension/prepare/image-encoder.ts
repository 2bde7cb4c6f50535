/**
 * Encodes subject images in an extension worker, synchronously as the subject writer expects:
 * PNG with fast-png (pure JS over fflate), JPEG with libjpeg-turbo's wasm once the worker has
 * fetched it (imageEncoderWithJpeg), jpeg-js otherwise (worker/subject/jpeg-encode.ts). Same
 * formats as the Node codec (worker/subject/images.node.ts): 8-bit RGB or RGBA PNG, baseline RGB JPEG.
 */
import { encode as encodePng } from 'fast-png';
import { encodeRgbJpegJs, type RgbJpegEncode } from '../../worker/subject/jpeg-encode.ts';
import { LIMITS } from '../../worker/avatar/config.ts';
import { FormatError } from '../../worker/errors.ts';
import type { ImageCodec, SubjectImage } from '../../worker/subject/images.ts';

export type ImageEncoder = Pick<ImageCodec, 'encodePng' | 'encodeJpeg'>;

function checkImage(img: SubjectImage, field: string): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > LIMITS.maxImageSide || height > LIMITS.maxImageSide) {
    throw FormatError.expected('INPUT_FORMAT', field, `a size within ${LIMITS.maxImageSide}x${LIMITS.maxImageSide}`, `${width}x${height}`);
  }
  if ((channels !== 3 && channels !== 4) || !(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw FormatError.expected('INPUT_FORMAT', field, `${width * height * channels} bytes (${width}x${height}x${channels})`, String(data?.length));
  }
}

export function imageEncoderWithJpeg(encodeJpeg: RgbJpegEncode): ImageEncoder {
  return {
    encodePng(img) {
      checkImage(img, 'png');
      return encodePng({ width: img.width, height: img.height, channels: img.channels, depth: 8, data: img.data });
    },

    encodeJpeg(img, quality) {
      checkImage(img, 'jpeg');
      if (img.channels !== 3) throw FormatError.input('jpeg', 'expected an RGB image (JPEG has no alpha)');
      if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw FormatError.input('jpeg.quality', `expected an integer in [1, 100], got ${quality}`);
      return encodeJpeg(img.data, img.width, img.height, quality);
    },
  };
}

/** Pure JS: for pages that encode a few images and should not fetch the wasm for it. */
export const browserImageEncoder: ImageEncoder = imageEncoderWithJpeg(encodeRgbJpegJs);
