import { describe, expect, it } from 'vitest';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { prepareFrames } from '../../worker/model/track.ts';
import { buildWeights, tinyCamera8, tinyModelConfig } from '../helpers/model-fixtures.ts';
import { mulberry32, tinyAvatar } from '../helpers/tiny-avatar.ts';

describe('prepareFrames', () => {
  // Conditioning grid value = row index (see model-landmarks), film1[0] = smoothed code of the current frame.
  const weights = buildWeights(tinyModelConfig({ window: 3 }), tinyCamera8(), {
    'encoder_idexp_lm3d.embeddings': Float32Array.from({ length: 128 }, (_, i) => i),
    'mlp_lms_style_1.net.0.weight': [0, 1, 0],
    'mlp_lms_style_1.net.1.weight': [1],
    'mlp_lms_style_1.net.2.weight': [1, 0],
  });
  const value = (p: number[]) => p.map((v) => 3 * ((v + 1) / 2) + 0.5).reduce((s, pos, d) => s + pos * [1, 5, 25][d], 0);
  const frames = 12;
  const poseCount = 8;
  const track = Float32Array.from({ length: frames * 3 }, (_, i) => 0.2 * Math.sin(i * 1.7) + (i === 33 ? 0.6 : 0));
  const poses = new Float32Array(poseCount * 16);
  for (let i = 0; i < poseCount; i++) poses.set([1, 0, 0, i, 0, 1, 0, 0, 0, 0, 1, -3, 0, 0, 0, 1], i * 16);
  const eye = Float32Array.from({ length: poseCount }, (_, i) => 0.1 * i);

  /** The reference's normalisation, written out: torch mean/std(n-1), clamp at 2.3 sigma (landmark 0 is jaw). */
  function normalised(): number[][] {
    const out: number[][] = Array.from({ length: frames }, () => [0, 0, 0]);
    for (let d = 0; d < 3; d++) {
      const col = Array.from({ length: frames }, (_, t) => track[t * 3 + d]);
      const m = col.reduce((a, b) => a + b) / frames;
      const s = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / (frames - 1));
      col.forEach((v, t) => (out[t][d] = Math.max(-2.3, Math.min(2.3, (v - m) / s)) * s + m));
    }
    return out;
  }

  it('plays smoothed poses ping-pong, smooths the eye over 3 poses and the code by the lip EMA in frame order', () => {
    const norm = normalised();
    expect(norm[11][0]).not.toBeCloseTo(track[33], 3); // the outlier is clamped
    const out = [...prepareFrames(weights, poses, poseCount, track, frames, { eye })];
    expect(out.length).toBe(frames);
    const mirror = [0, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4];
    let ema = 0;
    out.forEach((f, t) => {
      const p = mirror[t];
      const lo = Math.max(0, p - 3);
      const hi = Math.min(poseCount - 1, p + 3);
      expect(f.pose[3]).toBeCloseTo((lo + hi) / 2, 5);
      expect(f.pose[0]).toBeCloseTo(1, 6);
      const e0 = Math.max(0, p - 1);
      const e1 = Math.min(poseCount - 1, p + 1);
      expect(f.eye).toBeCloseTo((0.1 * (e0 + e1)) / 2, 6);
      ema = t === 0 ? value(norm[t]) : 0.35 * ema + 0.65 * value(norm[t]);
      expect(f.film1[0]).toBeCloseTo(ema, 3);
    });
  });

  it('uses 0.25 for the eye without an eye track, and given statistics when passed', () => {
    const stats = { mean: new Float32Array(3), std: new Float32Array(3).fill(100) };
    const [first] = prepareFrames(weights, poses, poseCount, track, frames, { stats });
    expect(first.eye).toBe(0.25);
    expect(first.film1[0]).toBeCloseTo(value([track[0], track[1], track[2]]), 3); // no clamping at 100 sigma
  });
});

describe('whole pipeline on a random tiny avatar', () => {
  it('renders deterministic, finite frames in [0, 1] from a landmark track', () => {
    const avatar = tinyAvatar({ seed: 3 });
    const w = loadModelWeights(avatar);
    const rand = mulberry32(9);
    const frames = 3;
    const track = Float32Array.from({ length: frames * 68 * 3 }, () => (rand() - 0.5) * 0.2);
    const poses = avatar.tensors.get('poses')!.data as Float32Array;
    const renderer = new CpuRenderer(w, avatar.camera);
    for (const f of prepareFrames(w, poses, poses.length / 16, track, frames)) {
      const a = renderer.render(f);
      const b = renderer.render(f);
      expect(Array.from(a.image)).toEqual(Array.from(b.image));
      expect(a.image.every((v) => v >= 0 && v <= 1)).toBe(true);
      // schedule invariants: 1 <= n_step <= 8, and every pass starts below the 16-step budget
      expect(a.passes.every((n) => n >= 1 && n <= 8)).toBe(true);
      const steps = a.passes.reduce((s, n) => s + n, 0);
      expect(steps - a.passes[a.passes.length - 1]).toBeLessThan(16);
      expect(Math.max(...a.samplesPerRay)).toBeLessThanOrEqual(steps);
    }
  });
});
