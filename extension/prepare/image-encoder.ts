/**
 * Encodes subject images in an extension worker, synchronously as the subject writer expects:
 * PNG with fast-png (pure JS over fflate), JPEG with libjpeg-turbo's wasm once the worker has
 * fetched it (imageEncoderWithJpeg), jpeg-js otherwise (worker/subject/jpeg-encode.ts). Same
 * formats as the Node codec (worker/subject/images.node.ts): 8-bit RGB or RGBA PNG, baseline RGB JPEG.
 */
import { encode as encodePng } from 'fast-png';
import { encodeRgbJpegJs, type RgbJpegEncode } from '../../worker/subject/jpeg-encode.ts';
import { checkedJpeg, checkImageToEncode, type ImageCodec } from '../../worker/subject/images.ts';

export type ImageEncoder = Pick<ImageCodec, 'encodePng' | 'encodeJpeg'>;

export function imageEncoderWithJpeg(encodeJpeg: RgbJpegEncode): ImageEncoder {
  return {
    encodePng(img) {
      checkImageToEncode(img, 'png');
      return encodePng({ width: img.width, height: img.height, channels: img.channels, depth: 8, data: img.data });
    },

    encodeJpeg(img, quality) {
      return checkedJpeg(img, quality, encodeJpeg);
    },
  };
}

/** Pure JS: for pages that encode a few images and should not fetch the wasm for it. */
export const browserImageEncoder: ImageEncoder = imageEncoderWithJpeg(encodeRgbJpegJs);
