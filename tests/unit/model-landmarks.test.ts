import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { landmarkStatistics, normaliseClamp, windowPoints } from '../../worker/model/landmarks.ts';
import { buildWeights, tinyCamera8, tinyModelConfig } from '../helpers/model-fixtures.ts';

describe('landmarkStatistics', () => {
  it('computes the per-number mean and the unbiased (n-1) std', () => {
    // 2 numbers over 4 frames
    const track = Float32Array.from([1, 10, 2, 10, 3, 10, 6, 10]);
    const { mean, std } = landmarkStatistics(track, 4, 2);
    expect(mean[0]).toBe(3);
    expect(std[0]).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 3), 6);
    expect(mean[1]).toBe(10);
    expect(std[1]).toBe(0);
  });

  it('rejects a single frame (no unbiased std) with INPUT_FORMAT', () => {
    expect(() => landmarkStatistics(new Float32Array(3), 1, 3)).toThrow(FormatError);
  });
});

describe('normaliseClamp', () => {
  const stats = { mean: new Float32Array(204), std: new Float32Array(204).fill(1) };
  const limit = (k: number, axis: number) => ((k >= 17 && k <= 26) || (k >= 36 && k <= 47)) && axis < 2 ? 1.15 : 2.3;

  it('clamps jaw, nose and mouth at 2.3 sigma, brows and eyes at 1.15 sigma on x,y and 2.3 on z', () => {
    for (const v of [3, -3]) {
      const out = new Float32Array(204);
      normaliseClamp(new Float32Array(204).fill(v), stats, out);
      for (let k = 0; k < 68; k++) for (let a = 0; a < 3; a++) expect(out[k * 3 + a]).toBeCloseTo(Math.sign(v) * limit(k, a), 6);
    }
  });

  it('leaves values inside the limits unchanged', () => {
    const out = new Float32Array(204);
    normaliseClamp(new Float32Array(204).fill(1), stats, out);
    expect(out.every((v) => v === 1)).toBe(true);
  });

  it('normalises by mean and std, then de-normalises', () => {
    const s = { mean: new Float32Array(204).fill(1), std: new Float32Array(204).fill(2) };
    const out = new Float32Array(204);
    normaliseClamp(new Float32Array(204).fill(10), s, out);
    expect(out[0]).toBeCloseTo(1 + 2.3 * 2, 5); // jaw
    expect(out[17 * 3]).toBeCloseTo(1 + 1.15 * 2, 5); // brow x
    expect(out[17 * 3 + 2]).toBeCloseTo(1 + 2.3 * 2, 5); // brow z
  });
});

describe('windowPoints', () => {
  it('takes frames t-2..t+2 by original index, zeros outside the sequence', () => {
    const track = Float32Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3]); // 3 frames x 1 landmark
    const out = new Float32Array(15);
    windowPoints(track, 3, 0, 5, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    windowPoints(track, 3, 2, 5, out);
    expect(Array.from(out)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0, 0, 0]);
  });
});

describe('LandmarkConditioner and computeFilm', () => {
  // Condition grid: 1 level, base 4 (scale 3, side 5), table value = row index, so the encoding
  // of p is pos_x + 5 pos_y + 25 pos_z with pos = 3 (p+1)/2 + 0.5 (linear inside the cell).
  const rowTable = Float32Array.from({ length: 128 }, (_, i) => i);
  const value = (p: number[]) => {
    const pos = p.map((v) => 3 * ((v + 1) / 2) + 0.5);
    return pos[0] + 5 * pos[1] + 25 * pos[2];
  };
  const weights = buildWeights(tinyModelConfig({ window: 3 }), tinyCamera8(), {
    'encoder_idexp_lm3d.embeddings': rowTable,
    'mlp_lms_style_1.net.0.weight': [0, 1, 0],
    'mlp_lms_style_1.net.1.weight': [1],
    'mlp_lms_style_1.net.2.weight': [1, 2],
    'mlp_lms_style_2.net.0.weight': [-1, 0, 0],
    'mlp_lms_style_2.net.1.weight': [1],
    'mlp_lms_style_2.net.2.weight': [1, 1],
  });
  const stats = { mean: new Float32Array(3), std: new Float32Array(3).fill(1) };
  const A = [0.1, -0.2, 0.3];
  const B = [-0.4, 0.5, 0.05];
  const Z = [0, 0, 0];

  it('encodes each point at (p+1)/2; zero-padded points land at the grid centre, not at zero', () => {
    const c = new LandmarkConditioner(weights, stats).code(Float32Array.from([...Z, ...A, ...B]));
    expect(c[0]).toBeCloseTo(62, 4); // centre: pos (2, 2, 2)
    expect(c[1]).toBeCloseTo(value(A), 4);
    expect(c[2]).toBeCloseTo(value(B), 4);
  });

  it('smooths codes in frame order with c = 0.35 c_prev + 0.65 c, the first frame unsmoothed', () => {
    const cond = new LandmarkConditioner(weights, stats);
    const frames = [
      [...A, ...A, ...A],
      [...B, ...B, ...B],
      [...Z, ...Z, ...Z],
    ].map((f) => Float32Array.from(f));
    const c0 = cond.code(frames[0]);
    const c1 = cond.code(frames[1]);
    const c2 = cond.code(frames[2]);
    const s1 = 0.35 * value(A) + 0.65 * value(B);
    expect(c0[1]).toBeCloseTo(value(A), 4);
    expect(c1[1]).toBeCloseTo(s1, 4);
    expect(c2[1]).toBeCloseTo(0.35 * s1 + 0.65 * 62, 4);
    cond.reset();
    expect(cond.code(frames[1])[1]).toBeCloseTo(value(B), 4);
  });

  it('computeFilm runs both MLPs (ReLU hidden layers, no bias)', () => {
    const c = Float32Array.from([5, 7, 9]);
    const { film1, film2 } = computeFilm(weights, c);
    expect(Array.from(film1)).toEqual([7, 14]); // picks c[1]
    expect(Array.from(film2)).toEqual([0, 0]); // -c[0] is cut by the ReLU
  });

  it('rejects a window of the wrong size with INPUT_FORMAT', () => {
    expect(() => new LandmarkConditioner(weights, stats).code(new Float32Array(8))).toThrow(FormatError);
  });
});
