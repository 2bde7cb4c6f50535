import { describe, expect, it } from 'vitest';
import { createGenerator, LANDMARK_DIM } from '../../worker/landmarks/model.ts';
import { LandmarkStream, predictLandmarks, type LandmarkFrame } from '../../worker/landmarks/stream.ts';
import { retargetFrames } from '../../worker/landmarks/retarget.ts';

function speechLike(rate: number, seconds: number): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = Math.max(0, Math.sin(2 * Math.PI * 3 * t));
    x[i] = 0.4 * env * (Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 900 * t));
  }
  return x;
}

function runStream(s: LandmarkStream, x: Float32Array, rate: number, chunk: number): LandmarkFrame[] {
  const out: LandmarkFrame[] = [];
  for (let at = 0; at < x.length; at += chunk) out.push(...s.push(x.subarray(at, at + chunk), rate));
  out.push(...s.finish());
  return out;
}

describe('LandmarkStream', () => {
  const g = createGenerator({ channels: 32, lookAhead: 2 }, 3);
  for (let d = 0; d < LANDMARK_DIM; d++) g.outScale[d] = 0.1 + d * 0.001;

  it('emits exactly the offline track, bit for bit, for chunk sizes 128..4800 at 48 and 44.1 kHz', () => {
    for (const rate of [48000, 44100]) {
      const x = speechLike(rate, 0.9);
      const offline = predictLandmarks(g, x, rate);
      expect(offline.frames).toBe(Math.ceil(0.9 * 25));
      for (const chunk of [128, 1000, 4800]) {
        const frames = runStream(new LandmarkStream(g), x, rate, chunk);
        expect(frames.length, `rate ${rate} chunk ${chunk}`).toBe(offline.frames);
        frames.forEach((f, i) => {
          expect(f.index).toBe(i);
          expect(f.time).toBeCloseTo(i * 0.04, 12);
          expect(f.landmarks).toEqual(offline.landmarks.subarray(i * LANDMARK_DIM, (i + 1) * LANDMARK_DIM));
        });
      }
    }
  });

  it('emits frame t once audio up to 40(t+2) ms + 22.5 ms + the resampler half-filter is in, not before', () => {
    const s = new LandmarkStream(g);
    // 16 kHz input: no resampler delay. Frame 0 needs mel frame 9: samples up to 160*9+199.
    expect(s.push(new Float32Array(1639), 16000)).toHaveLength(0);
    expect(s.push(new Float32Array(1), 16000)).toHaveLength(1);
    expect(s.push(new Float32Array(639), 16000)).toHaveLength(0);
    expect(s.push(new Float32Array(1), 16000)).toHaveLength(1);
  });

  it('gives the same landmarks for every frame of silence (a still mouth, no jitter)', () => {
    const frames = runStream(new LandmarkStream(g), new Float32Array(48000), 48000, 480);
    expect(frames).toHaveLength(25);
    for (const f of frames) expect(f.landmarks).toEqual(frames[0].landmarks);
  });

  it('retargets a template-space generator with the avatar statistics', () => {
    const t = { ...g, space: 'template' as const };
    const mean = Float32Array.from({ length: LANDMARK_DIM }, (_, i) => i);
    const std = new Float32Array(LANDMARK_DIM).fill(2);
    const y = Float32Array.from({ length: LANDMARK_DIM }, (_, d) => t.outMean[d] + t.outScale[d]);
    const r = retargetFrames(t, y, { mean, std, frames: 10 });
    for (let d = 0; d < LANDMARK_DIM; d++) expect(r[d]).toBeCloseTo(d + 2, 4);
    // An avatar-space generator is left alone.
    expect(retargetFrames(g, y, { mean, std, frames: 10 })).toBe(y);
  });

  it('rejects a sample-rate change mid-stream and pushes after finish()', () => {
    const s = new LandmarkStream(g);
    s.push(new Float32Array(480), 48000);
    expect(() => s.push(new Float32Array(480), 16000)).toThrow(/sampleRate/);
    s.finish();
    expect(() => s.push(new Float32Array(480), 48000)).toThrow(/finished/);
  });
});
