import { describe, expect, it } from 'vitest';
import { eyeAspectRatio, faceRect, formatLms, lipsRect, parseLms } from '../../worker/subject/lms.ts';

function lmsWith(points: Record<number, [number, number]>): Float32Array {
  const out = new Float32Array(136).fill(50);
  for (const [i, [x, y]] of Object.entries(points)) {
    out[Number(i) * 2] = x;
    out[Number(i) * 2 + 1] = y;
  }
  return out;
}

describe('.lms files', () => {
  it('round-trip through formatLms/parseLms at 6 decimals', () => {
    const lms = Float32Array.from({ length: 136 }, (_, i) => i * 1.25 - 3.5);
    expect(Array.from(parseLms(formatLms(lms), 'x.lms'))).toEqual(Array.from(lms));
  });

  it('accept numpy savetxt scientific notation', () => {
    const text = Array.from({ length: 68 }, () => '1.500000000000000000e+02 2.5e+01').join('\n');
    const lms = parseLms(new TextEncoder().encode(text), 'x.lms');
    expect([lms[0], lms[1]]).toEqual([150, 25]);
  });

  it('reject three numbers on a line, naming the line', () => {
    const lines = Array.from({ length: 68 }, () => '1 2');
    lines[4] = '1 2 3';
    expect(() => parseLms(new TextEncoder().encode(lines.join('\n')), 'a.lms')).toThrow('a.lms line 5: expected two numbers "x y", got "1 2 3"');
  });
});

describe('rectangles with the reference provider rules (x = row)', () => {
  it('face rect spans all points, truncated', () => {
    const lms = lmsWith({ 0: [10.7, 20.2], 8: [90.9, 80.99] });
    expect(faceRect(lms)).toEqual({ rowMin: 20, rowMax: 80, colMin: 10, colMax: 90 });
  });

  it('lips rect is the outer lips (48..59) padded to a square about their centre', () => {
    const pts: Record<number, [number, number]> = {};
    for (let i = 48; i < 68; i++) pts[i] = [60, 70];
    pts[48] = [40, 70]; // left corner, column 40
    pts[54] = [80, 70]; // right corner, column 80
    pts[51] = [60, 64]; // top, row 64
    pts[57] = [60, 76]; // bottom, row 76
    pts[62] = [60, 10]; // inner lip points are ignored
    // rows 64..76 -> centre 70; columns 40..80 -> centre 60; half side max(12, 40)//2 = 20.
    expect(lipsRect(lmsWith(pts), 128, 128)).toEqual({ rowMin: 50, rowMax: 90, colMin: 40, colMax: 80 });
    // Clamped to the image.
    expect(lipsRect(lmsWith(pts), 85, 88)).toEqual({ rowMin: 50, rowMax: 88, colMin: 40, colMax: 80 });
  });

  it('eye aspect ratio is ~0.3 for an open eye and 0 for a closed one', () => {
    const eye = (open: number): Record<number, [number, number]> => {
      const p: Record<number, [number, number]> = {};
      for (const s of [36, 42]) {
        p[s] = [0, 0];
        p[s + 3] = [10, 0];
        p[s + 1] = [3, -open];
        p[s + 2] = [7, -open];
        p[s + 4] = [7, open];
        p[s + 5] = [3, open];
      }
      return p;
    };
    expect(eyeAspectRatio(lmsWith(eye(1.5)))).toBeCloseTo(0.3, 6);
    expect(eyeAspectRatio(lmsWith(eye(0)))).toBe(0);
  });
});
