import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { convertPose, parseTransforms } from '../../worker/import/transforms.ts';

const M = [
  [0.1, 0.2, 0.3, 0.4],
  [0.5, 0.6, 0.7, 0.8],
  [0.9, 1.0, 1.1, 1.2],
  [7, 7, 7, 7],
];

function transforms(frames: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { focal_len: 1100.5, cx: 256.7, cy: 225.0, frames, ...extra };
}

function expectInputError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as FormatError).code).toBe('INPUT_FORMAT');
  expect((caught as FormatError).message).toBe(message);
}

describe('convertPose (nerf_matrix_to_ngp, scale 4, offset 0)', () => {
  it('takes rows 1,2,0, negates columns 1 and 2, scales the translation by 4 and resets the bottom row', () => {
    const out = new Float32Array(16);
    convertPose(M.flat(), out, 0);
    const f = Math.fround;
    expect(Array.from(out)).toEqual([
      f(0.5), -f(0.6), -f(0.7), f(f(0.8) * 4),
      f(0.9), -f(1.0), -f(1.1), f(f(1.2) * 4),
      f(0.1), -f(0.2), -f(0.3), f(f(0.4) * 4),
      0, 0, 0, 1,
    ]);
  });

  it('writes at the given offset and leaves the rest of the buffer alone', () => {
    const out = new Float32Array(32).fill(9);
    convertPose(M.flat(), out, 16);
    expect(Array.from(out.subarray(0, 16))).toEqual(new Array(16).fill(9));
    expect(out[31]).toBe(1);
  });
});

describe('parseTransforms', () => {
  it('derives the camera as the reference does: fx = fy = focal_len, W = 2*int(cx), H = 2*int(cy)', () => {
    const t = parseTransforms(transforms([{ transform_matrix: M }]));
    expect(t.camera).toEqual({ fx: 1100.5, fy: 1100.5, cx: 256.7, cy: 225, width: 512, height: 450 });
    expect(t.frames).toBe(1);
    expect(t.poses.length).toBe(16);
  });

  it('has no eye track when no frame has eye_ratio, and fills 0.25 where some frames lack it', () => {
    expect(parseTransforms(transforms([{ transform_matrix: M }])).eye).toBeNull();
    const t = parseTransforms(transforms([{ transform_matrix: M, eye_ratio: 0.31 }, { transform_matrix: M }]));
    expect(Array.from(t.eye!)).toEqual([Math.fround(0.31), 0.25]);
  });

  it('rejects missing or malformed fields, naming them', () => {
    expectInputError(() => parseTransforms(null), 'transforms: expected a JSON object, got null');
    expectInputError(() => parseTransforms({ cx: 1, cy: 1, frames: [] }), 'transforms.focal_len: expected a finite number, got undefined');
    expectInputError(() => parseTransforms(transforms([])), 'transforms.frames: expected a non-empty array, got "[]"');
    expectInputError(() => parseTransforms(transforms([{ transform_matrix: M }, { transform_matrix: [[1, 2, 3, 4]] }])), 'transforms.frames[1].transform_matrix: expected a 4x4 array, got [[1,2,3,4]]');
    const badCell = M.map((r) => r.slice()) as unknown[][];
    badCell[2][1] = 'x';
    expectInputError(() => parseTransforms(transforms([{ transform_matrix: badCell }])), 'transforms.frames[0].transform_matrix[2][1]: expected a finite number, got "x"');
    expectInputError(() => parseTransforms(transforms([{ transform_matrix: M, eye_ratio: '0.2' }])), 'transforms.frames[0].eye_ratio: expected a finite number, got "0.2"');
    expectInputError(() => parseTransforms(transforms([{ transform_matrix: M }], { cx: 5000 })), 'transforms.cx: expected a value giving a width 2*int(cx) in [2, 4096], got 5000');
    expectInputError(() => parseTransforms(transforms([{ transform_matrix: M }], { focal_len: -3 })), 'transforms.focal_len: expected a positive number, got -3');
  });
});
