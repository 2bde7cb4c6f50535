import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { decodeImage, encodePng, loadBackground, resizeArea } from '../../worker/io/image.node.ts';
import { landmarkStatistics } from '../../worker/import/importer.ts';

function gray(values: number[]): Uint8Array {
  return new Uint8Array(values);
}

describe('resizeArea (cv2.INTER_AREA semantics)', () => {
  it('averages 2x2 blocks rounding halves up, as OpenCV\'s 2x path does', () => {
    // sums 7 (1.75 -> 2), 6 (1.5 -> 2), 10 (2.5 -> 3)
    const src = gray([1, 2, 1, 1, 2, 3, 2, 2, 2, 2, 2, 3]);
    expect(Array.from(resizeArea(src, 6, 2, 3, 1, 1))).toEqual([2, 2, 3]);
  });

  it('averages other integer factors with float32 half-to-even rounding', () => {
    // 3x1 blocks: 4.5 -> 4 (even), 5.5 -> 6 (even)
    const src = gray([4, 4, 5, 5, 6, 6]);
    expect(Array.from(resizeArea(src, 6, 1, 2, 1, 1))).toEqual([4, 6]);
  });

  it('weights partially covered source pixels for non-integer shrinks', () => {
    // 3 -> 2: each output covers 1.5 inputs: (0 + 30/2)/1.5 = 10, (30/2 + 90)/1.5 = 70
    expect(Array.from(resizeArea(gray([0, 30, 90]), 3, 1, 2, 1, 1))).toEqual([10, 70]);
  });

  it('enlarges with OpenCV\'s area-mode bilinear coefficients', () => {
    expect(Array.from(resizeArea(gray([0, 100]), 2, 1, 4, 1, 1))).toEqual([0, 0, 100, 100]);
    expect(Array.from(resizeArea(gray([0, 100]), 2, 1, 3, 1, 1))).toEqual([0, 50, 100]);
  });

  it('keeps channels separate and returns the source when sizes already match', () => {
    const rgb = new Uint8Array([10, 20, 30, 50, 60, 70]);
    expect(Array.from(resizeArea(rgb, 2, 1, 1, 1, 3))).toEqual([30, 40, 50]);
    expect(resizeArea(rgb, 2, 1, 2, 1, 3)).toBe(rgb);
  });

  it('rejects a buffer that does not match its declared size, and absurd sizes', () => {
    expect(() => resizeArea(new Uint8Array(5), 2, 1, 1, 1, 3)).toThrow('image.data: expected 6 bytes (2x1x3), got 5');
    expect(() => resizeArea(new Uint8Array(3), 1, 1, 100000, 1, 3)).toThrow(/target\.width: expected an integer in \[1, 4096\]/);
  });
});

describe('decodeImage / encodePng', () => {
  const w = 5;
  const h = 3;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);

  it('round-trips RGB exactly through PNG', () => {
    const img = decodeImage(encodePng({ width: w, height: h, rgb }));
    expect(img).toEqual({ width: w, height: h, rgb });
  });

  it('drops the alpha channel of an RGBA PNG', () => {
    const png = new PNG({ width: 1, height: 1 });
    png.data = Buffer.from([1, 2, 3, 4]);
    expect(decodeImage(new Uint8Array(PNG.sync.write(png))).rgb).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('decodes a JPEG to RGB of the right size', () => {
    const flat = Buffer.alloc(16 * 16 * 4, 200);
    const bytes = new Uint8Array(jpeg.encode({ width: 16, height: 16, data: flat }, 100).data);
    const img = decodeImage(bytes);
    expect([img.width, img.height, img.rgb.length]).toEqual([16, 16, 768]);
    for (const v of img.rgb) expect(Math.abs(v - 200)).toBeLessThanOrEqual(2);
  });

  it('resizes a background to the camera size', () => {
    const bg = loadBackground(encodePng({ width: 4, height: 2, rgb: new Uint8Array(24).fill(9) }), 2, 1);
    expect(bg).toEqual({ width: 2, height: 1, rgb: new Uint8Array(6).fill(9) });
  });

  it('rejects unknown formats, corrupt PNGs and oversized declared sizes with INPUT_FORMAT', () => {
    const expectInput = (fn: () => unknown, pattern: RegExp): void => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect((e as FormatError).code).toBe('INPUT_FORMAT');
        expect((e as FormatError).message).toMatch(pattern);
      }
    };
    expectInput(() => decodeImage(new Uint8Array([1, 2, 3, 4])), /unrecognised signature/);
    const png = encodePng({ width: w, height: h, rgb });
    expectInput(() => decodeImage(png.subarray(0, 40)), /corrupt PNG/);
    const huge = png.slice();
    new DataView(huge.buffer).setUint32(16, 100000);
    expectInput(() => decodeImage(huge), /image: expected a size within 4096x4096, got 100000x3/);
  });
});

describe('landmarkStatistics', () => {
  it('computes the per-number mean and unbiased std over frames', () => {
    const track = new Float32Array(2 * 3 * 3); // T=3 frames, 2 landmarks
    for (let t = 0; t < 3; t++) for (let j = 0; j < 6; j++) track[t * 6 + j] = j === 0 ? t : j === 1 ? 5 : t * t;
    const s = landmarkStatistics(track, 2);
    expect(s.frames).toBe(3);
    expect(s.mean[0]).toBeCloseTo(1, 6);
    expect(s.std[0]).toBeCloseTo(1, 6); // var of 0,1,2 with n-1 = 1
    expect(s.std[1]).toBe(0);
    expect(s.mean[2]).toBeCloseTo(5 / 3, 6);
  });

  it('rejects a track that is not T x 68 x 3 or has a single frame', () => {
    expect(() => landmarkStatistics(new Float32Array(205), 68)).toThrow('landmarks: expected a Float32Array of T*68*3 values, got 205 values');
    expect(() => landmarkStatistics(new Float32Array(204), 68)).toThrow('landmarks: expected at least 2 frames (unbiased std), got 1');
  });
});
