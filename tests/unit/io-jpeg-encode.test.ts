/**
 * worker/io/jpeg-encode.ts is a faster rewrite of jpeg-js' encoder that must write the same
 * bytes: compared on noise, smooth gradients and flat images, sizes that are and are not
 * multiples of 8 (edge blocks repeat the last row and column), RGB and RGBA input, and the
 * whole quality range; and what it writes decodes back close to the source.
 */
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeJpeg } from '../../worker/io/jpeg-encode.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function image(kind: 'noise' | 'smooth' | 'flat', w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        if (kind === 'noise') rgb[i] = Math.floor(r() * 256);
        else if (kind === 'flat') rgb[i] = 40 + 70 * c;
        else rgb[i] = Math.max(0, Math.min(255, Math.round(128 + 100 * Math.sin(x / 9 + c) * Math.cos(y / 13 - c) + 8 * (r() - 0.5))));
      }
    }
  }
  return rgb;
}

function rgba(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    out[i * 4 + 3] = 255;
  }
  return out;
}

function reference(rgb: Uint8Array, w: number, h: number, q: number): Uint8Array {
  const out = jpeg.encode({ data: rgba(rgb), width: w, height: h }, q).data as Uint8Array;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

describe('encodeJpeg', () => {
  it('writes exactly the bytes jpeg-js writes', () => {
    const cases: [('noise' | 'smooth' | 'flat'), number, number][] = [
      ['noise', 1, 1],
      ['noise', 7, 5],
      ['smooth', 17, 9],
      ['noise', 64, 48],
      ['smooth', 130, 66],
      ['flat', 24, 16],
    ];
    let compared = 0;
    cases.forEach(([kind, w, h], k) => {
      const rgb = image(kind, w, h, k + 1);
      for (const q of [1, 10, 49, 50, 75, 90, 95, 100]) {
        const want = reference(rgb, w, h, q);
        expect(Buffer.from(encodeJpeg(rgb, w, h, 3, q)).equals(Buffer.from(want)), `${kind} ${w}x${h} q${q}`).toBe(true);
        expect(Buffer.from(encodeJpeg(rgba(rgb), w, h, 4, q)).equals(Buffer.from(want)), `${kind} ${w}x${h} q${q} rgba`).toBe(true);
        compared++;
      }
    });
    expect(compared).toBe(48);
  });

  it('decodes back to the image', () => {
    const [w, h] = [96, 72];
    const rgb = image('smooth', w, h, 9);
    const dec = jpeg.decode(encodeJpeg(rgb, w, h, 3, 95), { useTArray: true, formatAsRGBA: false });
    expect([dec.width, dec.height]).toEqual([w, h]);
    let se = 0;
    for (let i = 0; i < rgb.length; i++) se += (dec.data[i] - rgb[i]) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / (se / rgb.length));
    expect(psnr).toBeGreaterThan(35);
  });
});
