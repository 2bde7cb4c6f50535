/**
 * Subject JPEGs (ori_imgs, gt_imgs, bc.jpg) through libjpeg-turbo's wasm: what the trainers read
 * back must be as close to the source as jpeg-js' output was, in a format every reader takes.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { imageEncoderWithJpeg } from '../../extension/prepare/image-encoder.ts';
import { nodeImageCodec, nodePrepareCodec } from '../../worker/subject/images.node.ts';
import { encodeRgbJpegJs } from '../../worker/subject/jpeg-encode.ts';
import { turboJpegEncoder, TURBO_JPEG_WASM } from '../../worker/subject/jpeg-turbo.ts';
import { readImageHeader } from '../../worker/subject/images.ts';

/** Smooth colour gradients plus fine texture, sized off the 8 px block grid. */
function pattern(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      rgb[i] = 128 + 100 * Math.sin(x / 9 + y / 23);
      rgb[i + 1] = 128 + 90 * Math.cos(x / 17 - y / 7);
      rgb[i + 2] = 128 + 60 * Math.sin((x * 3 + y) / 5);
    }
  }
  return rgb;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (s / a.length));
}

/** The start-of-frame marker: 0xc0 is baseline; the sampling factor of each component. */
function frameHeader(jpg: Uint8Array): { marker: number; sampling: number[] } {
  for (let i = 2; i + 18 < jpg.length; i++) {
    if (jpg[i] === 0xff && jpg[i + 1] >= 0xc0 && jpg[i + 1] <= 0xc2) return { marker: jpg[i + 1], sampling: [jpg[i + 11], jpg[i + 14], jpg[i + 17]] };
  }
  throw new Error('no SOF marker');
}

describe('subject JPEG encoding', () => {
  it('writes baseline 4:4:4 JPEGs that decode as close to the source as jpeg-js wrote them', () => {
    const [w, h] = [203, 157];
    const rgb = pattern(w, h);
    for (const quality of [75, 95]) {
      const jpg = nodePrepareCodec.encodeJpeg({ width: w, height: h, channels: 3, data: rgb }, quality);
      expect(frameHeader(jpg)).toEqual({ marker: 0xc0, sampling: [0x11, 0x11, 0x11] });
      expect(readImageHeader(jpg, 'jpg')).toMatchObject({ format: 'jpeg', width: w, height: h });
      // Read back by the trainers' loader (jpeg-js).
      const back = nodeImageCodec.decode(jpg, 'jpg');
      expect([back.width, back.height, back.channels]).toEqual([w, h, 3]);
      const ours = psnr(back.data, rgb);
      const js = psnr(nodeImageCodec.decode(encodeRgbJpegJs(rgb, w, h, quality), 'jpg').data, rgb);
      expect(ours).toBeGreaterThan(quality === 95 ? 38 : 30);
      expect(ours).toBeGreaterThan(js - 1);
    }
  });

  it('encodes frame after frame of different sizes with one encoder, and refuses a wrong buffer', () => {
    const a = nodePrepareCodec.encodeJpeg({ width: 64, height: 48, channels: 3, data: pattern(64, 48) }, 90);
    const b = nodePrepareCodec.encodeJpeg({ width: 17, height: 31, channels: 3, data: pattern(17, 31) }, 90);
    const a2 = nodePrepareCodec.encodeJpeg({ width: 64, height: 48, channels: 3, data: pattern(64, 48) }, 90);
    expect(readImageHeader(b, 'b')).toMatchObject({ width: 17, height: 31 });
    expect(Array.from(a2)).toEqual(Array.from(a));
    expect(() => nodePrepareCodec.encodeJpeg({ width: 8, height: 8, channels: 3, data: new Uint8Array(10) }, 90)).toThrow(/192 bytes \(8x8x3\)/);
  });

  it('writes a JPEG larger than the raw pixels (noise at quality 100) and keeps encoding after it', () => {
    const [w, h] = [64, 48];
    let seed = 7;
    const noise = new Uint8Array(w * h * 3).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    const big = nodePrepareCodec.encodeJpeg({ width: w, height: h, channels: 3, data: noise }, 100);
    expect(big.length).toBeGreaterThan(noise.length);
    expect(psnr(nodeImageCodec.decode(big, 'big.jpg').data, noise)).toBeGreaterThan(40);
    const next = nodePrepareCodec.encodeJpeg({ width: w, height: h, channels: 3, data: pattern(w, h) }, 95);
    expect(frameHeader(next).marker).toBe(0xc0);
    expect(psnr(nodeImageCodec.decode(next, 'next.jpg').data, pattern(w, h))).toBeGreaterThan(38);
  });

  it('gives the extension worker the same JPEG bytes as Node from the same wasm', () => {
    const wasm = readFileSync(createRequire(import.meta.url).resolve(`${TURBO_JPEG_WASM.pkg}/wasm`));
    const worker = imageEncoderWithJpeg(turboJpegEncoder(new WebAssembly.Module(wasm)));
    const img = { width: 120, height: 90, channels: 3 as const, data: pattern(120, 90) };
    expect(Array.from(worker.encodeJpeg(img, 95))).toEqual(Array.from(nodePrepareCodec.encodeJpeg(img, 95)));
  });
});
