/**
 * The browser's subject image decoder (extension/train/image-decoder.ts) must give the trainer
 * the same pixels as the Node codec, for every PNG/JPEG layout a subject can hold, and name
 * the file when one is corrupt.
 */
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { browserImageDecoder } from '../../extension/train/image-decoder.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import type { SubjectImage } from '../../worker/subject/images.ts';

function pattern(w: number, h: number, channels: 3 | 4): SubjectImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 3) * 11) & 255;
  return { width: w, height: h, channels, data };
}

describe('browserImageDecoder', () => {
  it('decodes RGB and RGBA PNGs to the same bytes as the Node codec', () => {
    for (const channels of [3, 4] as const) {
      const img = pattern(13, 7, channels);
      const bytes = nodeImageCodec.encodePng(img);
      const got = browserImageDecoder.decode(bytes, 'x.png');
      expect(got).toEqual(nodeImageCodec.decode(bytes, 'x.png'));
      expect(got.channels).toBe(channels);
      expect(got.data).toEqual(img.data);
    }
  });

  it('decodes a JPEG to the same RGB bytes as the Node codec', () => {
    const bytes = nodeImageCodec.encodeJpeg(pattern(24, 16, 3), 90);
    const got = browserImageDecoder.decode(bytes, 'x.jpg');
    expect(got.channels).toBe(3);
    expect(got.data).toEqual(nodeImageCodec.decode(bytes, 'x.jpg').data);
  });

  it('expands grey, grey+alpha and 16-bit PNGs to 8-bit RGB(A)', () => {
    const grey = encodePng({ width: 2, height: 1, channels: 1, depth: 8, data: Uint8Array.from([10, 200]) });
    expect(browserImageDecoder.decode(grey, 'g.png')).toEqual({ width: 2, height: 1, channels: 3, data: Uint8Array.from([10, 10, 10, 200, 200, 200]) });
    const greyAlpha = encodePng({ width: 1, height: 1, channels: 2, depth: 8, data: Uint8Array.from([50, 128]) });
    expect(browserImageDecoder.decode(greyAlpha, 'ga.png').data).toEqual(Uint8Array.from([50, 50, 50, 128]));
    const deep = encodePng({ width: 1, height: 1, channels: 3, depth: 16, data: Uint16Array.from([0xff00, 0x1234, 0x0001]) });
    expect(browserImageDecoder.decode(deep, 'd.png').data).toEqual(Uint8Array.from([0xff, 0x12, 0x00]));
  });

  it('names the file when it is truncated or not an image', () => {
    const bytes = nodeImageCodec.encodePng(pattern(8, 8, 3));
    expect(() => browserImageDecoder.decode(bytes.subarray(0, 40), 'torso_imgs/3.png')).toThrow(/torso_imgs\/3\.png.*corrupt PNG/);
    const jpg = nodeImageCodec.encodeJpeg(pattern(8, 8, 3), 80);
    expect(() => browserImageDecoder.decode(jpg.subarray(0, 200), 'gt_imgs/1.jpg')).toThrow(/gt_imgs\/1\.jpg/);
    expect(() => browserImageDecoder.decode(new TextEncoder().encode('hello world'), 'bc.jpg')).toThrow(/bc\.jpg.*not a PNG or JPEG/);
  });
});
