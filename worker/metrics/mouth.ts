/**
 * Mouth-region PSNR: PSNR restricted to the box around the mouth landmarks (iBUG 48..67, the
 * same points the reference's LMD metric uses), padded on every side by a fraction of the box's
 * larger side so that the lips' edges and the chin line are judged too, clamped to the image.
 */
import { FormatError } from '../errors.ts';
import { checkPair, type MetricImage } from './image-pair.ts';
import { psnr } from './psnr.ts';

export interface MouthBox {
  x0: number;
  y0: number;
  /** Exclusive. */
  x1: number;
  y1: number;
}

export const MOUTH_PAD = 0.25;

/** The padded mouth box from 68 (x = column, y = row) landmarks, in whole pixels. */
export function mouthBox(lms: ArrayLike<number>, width: number, height: number, pad = MOUTH_PAD): MouthBox {
  if (lms.length !== 136) throw FormatError.expected('INPUT_FORMAT', 'mouthBox.lms', '136 values (68 x, y pairs)', String(lms.length));
  if (!(pad >= 0 && pad <= 4)) throw FormatError.input('mouthBox.pad', `expected a fraction in [0, 4], got ${pad}`);
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 48; i < 68; i++) {
    const x = lms[i * 2];
    const y = lms[i * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw FormatError.input(`mouthBox.lms[${i}]`, `expected finite coordinates, got ${x}, ${y}`);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const p = pad * Math.max(x1 - x0, y1 - y0);
  const box = {
    x0: Math.max(0, Math.floor(x0 - p)),
    y0: Math.max(0, Math.floor(y0 - p)),
    x1: Math.min(width, Math.floor(x1 + p) + 1),
    y1: Math.min(height, Math.floor(y1 + p) + 1),
  };
  if (box.x1 <= box.x0 || box.y1 <= box.y0) throw FormatError.input('mouthBox.lms', `the mouth box [${x0}, ${y0}]..[${x1}, ${y1}] lies outside the ${width}x${height} image`);
  return box;
}

export function crop(img: MetricImage, box: MouthBox): MetricImage {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const c = img.channels;
  const Ctor = img.data.constructor as new (n: number) => MetricImage['data'];
  const out = new Ctor(w * h * c);
  for (let y = 0; y < h; y++) {
    const src = ((box.y0 + y) * img.width + box.x0) * c;
    out.set(img.data.subarray(src, src + w * c), y * w * c);
  }
  return { width: w, height: h, channels: c, data: out };
}

/** PSNR over the padded mouth box of the ground-truth landmarks. */
export function mouthPsnr(a: MetricImage, b: MetricImage, lms: ArrayLike<number>, pad = MOUTH_PAD): number {
  checkPair(a, b, 'mouthPsnr');
  const box = mouthBox(lms, a.width, a.height, pad);
  return psnr(crop(a, box), crop(b, box));
}
