/**
 * The person segmentation's resize (worker/face/segmenter.ts upsampleProbability), rewritten
 * for speed in prepare's write stage, must give exactly what the per-pixel bilinear form gives
 * (written out here), for probability and logit outputs, square and non-square frames.
 */
import { describe, expect, it } from 'vitest';
import { upsampleProbability } from '../../worker/face/segmenter.ts';

const N = 256;

function perPixel(prob: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * N) / h - 0.5, 0), N - 1);
    const y0 = Math.min(Math.floor(fy), N - 2);
    const ay = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * N) / w - 0.5, 0), N - 1);
      const x0 = Math.min(Math.floor(fx), N - 2);
      const ax = fx - x0;
      const p = (yy: number, xx: number): number => prob[yy * N + xx];
      const v = (1 - ay) * ((1 - ax) * p(y0, x0) + ax * p(y0, x0 + 1)) + ay * ((1 - ax) * p(y0 + 1, x0) + ax * p(y0 + 1, x0 + 1));
      out[y * w + x] = v >= 0 && v <= 1 ? v : 1 / (1 + Math.exp(-v));
    }
  }
  return out;
}

describe('segmentation upsampling', () => {
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const logits of [false, true]) {
    for (const [w, h] of [[512, 512], [300, 200], [97, 131]]) {
      it(`matches the per-pixel form exactly (${logits ? 'logits' : 'probabilities'}, ${w}x${h})`, () => {
        const prob = Float32Array.from({ length: N * N }, () => (logits ? (rnd() - 0.5) * 16 : rnd()));
        const a = upsampleProbability(prob, w, h);
        const b = perPixel(prob, w, h);
        expect(a.length).toBe(w * h);
        let diffs = 0;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diffs++;
        expect(diffs).toBe(0);
        if (logits) expect(Math.min(...a.subarray(0, 1000))).toBeGreaterThanOrEqual(0);
      });
    }
  }
});
