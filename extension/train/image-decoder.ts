/**
 * Decodes subject images (PNG, JPEG) in an extension page or worker, synchronously as the
 * subject reader expects: fast-png (pure JS over fflate) and jpeg-js with typed arrays, neither
 * needing Node's Buffer. The result matches the Node codec (worker/subject/images.node.ts):
 * 8-bit RGB, or RGBA when the PNG declares alpha; grey, 16-bit and palette files are expanded.
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { LIMITS } from '../../worker/avatar/config.ts';
import { FormatError } from '../../worker/errors.ts';
import { readImageHeader, type ImageCodec, type SubjectImage } from '../../worker/subject/images.ts';

export type ImageDecoder = Pick<ImageCodec, 'decode'>;

/** Any decoded PNG sample layout -> 8-bit RGB or RGBA (the header says which). */
function pngTo8Bit(png: ReturnType<typeof decodePng>, wantAlpha: boolean, field: string): SubjectImage {
  const { width, height } = png;
  const n = width * height;
  const out = new Uint8Array(n * (wantAlpha ? 4 : 3));
  const channels = wantAlpha ? 4 : 3;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const c = rgb.length / n;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) out[i * channels + k] = rgb[i * c + k];
      if (wantAlpha) out[i * 4 + 3] = c === 4 ? rgb[i * 4 + 3] : 255;
    }
    return { width, height, channels, data: out };
  }
  if (png.depth !== 8 && png.depth !== 16) throw FormatError.input(field, `PNG bit depth ${png.depth} is not supported (expected 8 or 16)`);
  const src = png.data;
  const c = png.channels;
  const shift = png.depth === 16 ? 8 : 0;
  const key = png.transparency;
  for (let i = 0; i < n; i++) {
    const grey = c <= 2;
    for (let k = 0; k < 3; k++) out[i * channels + k] = src[i * c + (grey ? 0 : k)] >> shift;
    if (!wantAlpha) continue;
    let a = 255;
    if (c === 2 || c === 4) a = src[i * c + c - 1] >> shift;
    // tRNS on a grey or RGB image names one colour that is fully transparent.
    else if (key && (grey ? src[i * c] === key[0] : src[i * c] === key[0] && src[i * c + 1] === key[1] && src[i * c + 2] === key[2])) a = 0;
    out[i * 4 + 3] = a;
  }
  return { width, height, channels, data: out };
}

export const browserImageDecoder: ImageDecoder = {
  decode(bytes: Uint8Array, field: string): SubjectImage {
    const header = readImageHeader(bytes, field);
    if (header.format === 'png') {
      let png: ReturnType<typeof decodePng>;
      try {
        png = decodePng(bytes);
      } catch (e) {
        throw FormatError.input(field, `corrupt PNG (${(e as Error).message})`, e);
      }
      if (png.width !== header.width || png.height !== header.height) throw FormatError.input(field, `corrupt PNG (header says ${header.width}x${header.height}, pixels are ${png.width}x${png.height})`);
      return pngTo8Bit(png, header.alpha, field);
    }
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: (LIMITS.maxImageSide * LIMITS.maxImageSide) / 1e6, maxMemoryUsageInMB: 512 });
    } catch (e) {
      throw FormatError.input(field, `corrupt JPEG (${(e as Error).message})`, e);
    }
    const n = img.width * img.height;
    if (img.data.length !== n * 4) throw FormatError.input(field, `corrupt JPEG (${img.data.length} bytes for ${img.width}x${img.height} RGBA)`);
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = img.data[i * 4 + k];
    return { width: img.width, height: img.height, channels: 3, data: rgb };
  },
};
