import { describe, expect, it } from 'vitest';
import { demoLandmarkTrack } from '../../worker/avatar/synthetic.ts';
import { ConfigError } from '../../worker/errors.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { landmarkStatistics } from '../../worker/model/landmarks.ts';
import { changedPoints, lipFilms, projectedBox } from '../../worker/model/speech-region.ts';
import { demoMouthPixels, psnr, talkingSequence } from '../helpers/fast-sequence.ts';

const SIZE = 64;
const FRAMES = 72;

describe('partial fast frames (the CPU fallback while the head holds still)', () => {
  // The demo's talking track from a silent stretch through a speech onset (frame 60), every frame
  // at the pose of frame 56: what the CPU fallback renders while it holds the pose.
  const seq = talkingSequence(SIZE, FRAMES);
  const pose = seq.frames[56].pose;
  const frames = seq.frames.slice(56, FRAMES).map((f) => ({ ...f, pose }));
  const stats = landmarkStatistics(demoLandmarkTrack(FRAMES), FRAMES, seq.weights.config.condition.numLandmarks * 3);
  const exact = frames.map((f) => new CpuRenderer(seq.weights, seq.avatar.camera).render(f).image);
  const mouth = demoMouthPixels(pose, seq.avatar.camera);

  /** Worst mouth and whole-frame PSNR against exact mode, and multiply-adds after the first frame. */
  function run(fast: FastCpuRenderer): { mouth: number; frame: number; macs: number; partial: number } {
    let worstMouth = Infinity;
    let worstFrame = Infinity;
    let macs = 0;
    let partial = 0;
    frames.forEach((f, i) => {
      const r = fast.render(f);
      worstMouth = Math.min(worstMouth, psnr(r.image, exact[i], mouth));
      worstFrame = Math.min(worstFrame, psnr(r.image, exact[i]));
      if (i > 0) macs += r.stats.macs;
      if (r.stats.partial) partial++;
    });
    return { mouth: worstMouth, frame: worstFrame, macs, partial };
  }

  it('the region found from a closed and an open mouth covers the mouth and is a small part of the image', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const { closed, open } = lipFilms(seq.weights, stats);
    const region = fast.findSpeechRegion(closed, open, pose, frames[0].eye);
    const box = projectedBox(region, pose, seq.avatar.camera, 0, 0);
    const rows = mouth.map((p) => Math.floor(p / SIZE));
    const cols = mouth.map((p) => p % SIZE);
    // its centre lies inside the demo's mouth box
    const rc = (box.r0 + box.r1) / 2;
    const cc = (box.c0 + box.c1) / 2;
    expect(rc).toBeGreaterThanOrEqual(Math.min(...rows));
    expect(rc).toBeLessThanOrEqual(Math.max(...rows));
    expect(cc).toBeGreaterThanOrEqual(Math.min(...cols));
    expect(cc).toBeLessThanOrEqual(Math.max(...cols));
    expect((box.r1 - box.r0) * (box.c1 - box.c0)).toBeLessThan((SIZE * SIZE) / 4);
  });

  it('re-render only the speech region and follow the mouth through a speech onset as the full frames do, for fewer multiply-adds', () => {
    const full = run(new FastCpuRenderer(seq.weights, seq.avatar.camera, { refreshPeriod: 0 }));
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const { closed, open } = lipFilms(seq.weights, stats);
    fast.setSpeechRegion(fast.findSpeechRegion(closed, open, pose, frames[0].eye));
    const part = run(fast);
    expect(part.partial).toBe(frames.length - 1);
    expect(full.partial).toBe(0);
    expect(part.mouth).toBeGreaterThanOrEqual(35);
    expect(part.frame).toBeGreaterThanOrEqual(35);
    expect(part.macs).toBeLessThan(0.6 * full.macs);
  });

  it('a region that misses the mouth shows a stale mouth (what the bound above catches)', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera, { regionPad: 0, regionPadPixels: 0 });
    // one surface point on the forehead: the box is a pixel there
    const { closed } = lipFilms(seq.weights, stats);
    const probe = new FastCpuRenderer(seq.weights, seq.avatar.camera).render({ ...closed, pose, eye: frames[0].eye });
    const p = 14 * SIZE + SIZE / 2;
    expect(Number.isNaN(probe.hitT[p])).toBe(false);
    const at = [0, 1, 2].map((k) => probe.origins[p * 3 + k] + probe.hitT[p] * probe.directions[p * 3 + k]);
    fast.setSpeechRegion(Float32Array.from(at));
    const wrong = run(fast);
    expect(wrong.partial).toBe(frames.length - 1);
    expect(wrong.mouth).toBeLessThan(35);
  });

  it('a pose change renders a full frame', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const { closed, open } = lipFilms(seq.weights, stats);
    fast.setSpeechRegion(fast.findSpeechRegion(closed, open, pose, frames[0].eye));
    expect(fast.render(frames[0]).stats.partial).toBe(false);
    expect(fast.render(frames[1]).stats.partial).toBe(true);
    expect(fast.render(seq.frames[58]).stats.partial).toBe(false);
    expect(fast.render({ ...frames[2], eye: frames[2].eye + 0.5 }).stats.partial).toBe(false);
  });

  it('rejects bad regions and options with specific errors', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    expect(() => fast.setSpeechRegion(new Float32Array(4))).toThrow(ConfigError);
    expect(() => fast.setSpeechRegion(Float32Array.of(0, Number.NaN, 1))).toThrow(/finite x, y, z triples/);
    expect(() => new FastCpuRenderer(seq.weights, seq.avatar.camera, { refreshPeriod: 1.5 })).toThrow(/refreshPeriod/);
    expect(() => new FastCpuRenderer(seq.weights, seq.avatar.camera, { regionPad: -1 })).toThrow(/regionPad/);
    const img = new Float32Array(SIZE * SIZE * 3);
    expect(() => changedPoints(img, img, SIZE, [new Float32Array(SIZE * SIZE * 3)])).toThrow(/do not differ/);
  });
});
