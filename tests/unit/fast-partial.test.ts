/**
 * Fast mode's partial frames (issue 14, the CPU fallback): at a still pose only the speech
 * region and one row in refreshPeriod are re-rendered. Checked against the exact renderer on the
 * built-in avatar talking at one pose: the mouth must be as exact as a full fast frame on every
 * frame (no lag), the whole frame close; a region that misses the jaw must fail the same bound.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { downscaleAvatar } from '../../worker/engine/cpu-reference-renderer.ts';
import { CpuRenderer, type FrameInput } from '../../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { boxPixels, changedPoints, lipFilms, projectedBox } from '../../worker/model/speech-region.ts';
import { avatarSequence, psnr } from '../helpers/fast-sequence.ts';

const SIDE = 32;
const FRAMES = 14;
const src = await loadBuiltinAvatar();
const avatar = downscaleAvatar(src, src.camera.width / SIDE);
const seq = avatarSequence(avatar, FRAMES);
const pose = seq.frames[0].pose;
// Talking at one pose, the eye value held: what a still head in a meeting renders.
const frames: FrameInput[] = seq.frames.map((f) => ({ ...f, pose, eye: seq.frames[0].eye }));
const exact = new CpuRenderer(seq.weights, avatar.camera);
const reference = frames.map((f) => exact.render(f).image);
const films = lipFilms(seq.weights, avatar.landmarkStats!);
const region = new FastCpuRenderer(seq.weights, avatar.camera).findSpeechRegion(films.closed, films.open, pose, frames[0].eye);
// The mouth as the metric sees it: the region's own box, unpadded.
const mouth = boxPixels(projectedBox(region, pose, avatar.camera, 0), SIDE);

function run(points: Float32Array): { worst: number; worstMouth: number; partial: number; macs: number } {
  const fast = new FastCpuRenderer(seq.weights, avatar.camera);
  fast.setSpeechRegion(points);
  let worst = Infinity;
  let worstMouth = Infinity;
  let partial = 0;
  let macs = 0;
  frames.forEach((f, i) => {
    const r = fast.render(f);
    if (r.stats.partial) partial++;
    if (i > 0) macs += r.stats.macs;
    worst = Math.min(worst, psnr(r.image, reference[i]));
    worstMouth = Math.min(worstMouth, psnr(r.image, reference[i], mouth));
  });
  return { worst, worstMouth, partial, macs };
}

describe('fast mode partial frames', () => {
  it('re-render the mouth on every frame at a still pose, as exact as a full render there, for a fraction of the work', () => {
    const p = run(region);
    const full = new FastCpuRenderer(seq.weights, avatar.camera, { refreshPeriod: 0 });
    let fullMacs = 0;
    frames.forEach((f, i) => {
      const r = full.render(f);
      if (i > 0) fullMacs += r.stats.macs;
    });
    console.log(`[fast-partial] ${SIDE}px builtin, ${FRAMES} frames: worst frame ${p.worst.toFixed(2)} dB, mouth worst ${p.worstMouth.toFixed(2)} dB, multiply-adds partial/full fast ${(p.macs / fullMacs).toFixed(3)}`);
    expect(p.partial).toBe(FRAMES - 1);
    expect(p.worstMouth).toBeGreaterThanOrEqual(38);
    expect(p.worst).toBeGreaterThanOrEqual(35);
    expect(p.macs).toBeLessThan(0.7 * fullMacs);
  });

  it('a region that misses the jaw leaves a stale mouth: the same bound fails', () => {
    // One point at the region's top row: the box no longer reaches the lower lip and chin.
    let top = 0;
    const box = projectedBox(region, pose, avatar.camera, 0);
    for (let i = 0; i < region.length; i += 3) {
      const b = projectedBox(region.subarray(i, i + 3), pose, avatar.camera, 0);
      if (b.r0 === box.r0) top = i;
    }
    const p = run(region.slice(top, top + 3));
    console.log(`[fast-partial] region cut to its top point: mouth worst ${p.worstMouth.toFixed(2)} dB`);
    expect(p.worstMouth).toBeLessThan(38);
  });

  it('renders in full when the pose or the eye changes, and after reset()', () => {
    const fast = new FastCpuRenderer(seq.weights, avatar.camera);
    fast.setSpeechRegion(region);
    expect(fast.render(frames[0]).stats.partial).toBe(false);
    expect(fast.render(frames[1]).stats.partial).toBe(true);
    expect(fast.render({ ...frames[2], pose: seq.frames[5].pose }).stats.partial).toBe(false);
    expect(fast.render({ ...frames[3], pose: seq.frames[5].pose, eye: frames[3].eye + 0.1 }).stats.partial).toBe(false);
    fast.reset();
    expect(fast.render(frames[4]).stats.partial).toBe(false);
    fast.setSpeechRegion(null);
    expect(fast.render(frames[5]).stats.partial).toBe(false);
  });

  it('rejects a malformed region and renders that do not differ', () => {
    const fast = new FastCpuRenderer(seq.weights, avatar.camera);
    expect(() => fast.setSpeechRegion(new Float32Array(4))).toThrow(/speech region/);
    expect(() => fast.setSpeechRegion(Float32Array.from([0, NaN, 0]))).toThrow(/speech region/);
    expect(() => new FastCpuRenderer(seq.weights, avatar.camera, { refreshPeriod: 1.5 })).toThrow(/refreshPeriod/);
    const img = reference[0];
    expect(() => changedPoints(img, img, SIDE, [new Float32Array(SIDE * SIDE * 3)])).toThrow(/do not differ/);
  });
});
