/**
 * The image pairs the metrics compare: interleaved, row-major, same size and channel count,
 * either uint8 (0..255) or float (0..1). Everything is converted to float64 in [0, 1] so the
 * metrics match the reference's (RAD-NeRF PSNRMeter works on [0,1] floats).
 */
import { FormatError } from '../errors.ts';

export interface MetricImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Float32Array | Float64Array;
}

export function checkPair(a: MetricImage, b: MetricImage, name: string): void {
  for (const [img, which] of [[a, 'a'], [b, 'b']] as const) {
    const { width, height, channels, data } = img;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || !Number.isInteger(channels) || channels < 1 || channels > 4) {
      throw FormatError.input(`${name}.${which}`, `expected a positive integer size and 1-4 channels, got ${width}x${height}x${channels}`);
    }
    if (!data || data.length !== width * height * channels) throw FormatError.expected('INPUT_FORMAT', `${name}.${which}.data`, `${width * height * channels} values`, String(data?.length));
  }
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw FormatError.input(name, `images differ in shape: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`);
  }
}

/** Values as float64 in [0, 1]; float inputs must be finite. */
export function unit(img: MetricImage, field: string): Float64Array {
  const out = new Float64Array(img.data.length);
  if (img.data instanceof Uint8Array) {
    for (let i = 0; i < out.length; i++) out[i] = img.data[i] / 255;
    return out;
  }
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i];
    if (!Number.isFinite(v)) throw FormatError.input(field, `value ${i} is ${v} (expected finite values)`);
    out[i] = v;
  }
  return out;
}
