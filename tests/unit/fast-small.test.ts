/**
 * Fast mode at the CPU fallback's smaller render side (32x32: the built-in's 192 px camera / 6,
 * the resolution ladder's lower rung): 'auto' marches every pixel there (strideAt), because a
 * 2-pixel lattice spans a lip or an eye of a 32 px face. Measured over the head-motion sequence,
 * the 2-pixel lattice put 58 of 250 frames under the bounds (worst 28.8 dB, mouth 28.5 dB, right
 * after the fast head turn at frame 33) for 0.026 of exact's multiply-adds.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { headHalfMacs } from '../../worker/model/fast-field.ts';
import { FastCpuRenderer, strideAt, torsoPixelMacs } from '../../worker/model/fast-renderer.ts';
import { avatarSequence, mouthPixelsOf, psnr, resizeAvatar, sequenceMouthPoints } from '../helpers/fast-sequence.ts';
import { torsoPixels } from '../../worker/model/torso.ts';

const SIDE = 32;
const FRAMES = 64; // the first fast head turn (frames 30-35) and the phrase after it

describe('FastCpuRenderer at 32x32', () => {
  it("'auto' keeps every frame >= 38 dB and the mouth >= 35 dB from exact through a fast head turn, for fewer multiply-adds", async () => {
    expect(strideAt({ stride: 'auto' }, SIDE, SIDE)).toBe(1);
    expect(strideAt({ stride: 'auto' }, 64, 64)).toBe(2);
    expect(strideAt({ stride: 'auto' }, 192, 192)).toBe(4);
    expect(strideAt({ stride: 8 }, SIDE, SIDE)).toBe(8);
    const av = resizeAvatar(await loadBuiltinAvatar(), SIDE);
    const seq = avatarSequence(av, FRAMES);
    const pts = sequenceMouthPoints(seq);
    const fast = new FastCpuRenderer(seq.weights, av.camera);
    const exact = new CpuRenderer(seq.weights, av.camera);
    const t = seq.weights.torso!;
    const torsoCount = torsoPixels(t.densityGrid, seq.weights.config.torso!.densityResolution, SIDE, SIDE, t.densityThreshold).length;
    const half = headHalfMacs(seq.weights.config);
    let macsFast = 0;
    let macsExact = 0;
    for (let i = 0; i < FRAMES; i++) {
      const f = fast.render(seq.frames[i]);
      const e = exact.render(seq.frames[i]);
      expect(psnr(f.image, e.image), `frame ${i}`).toBeGreaterThanOrEqual(38);
      expect(psnr(f.image, e.image, mouthPixelsOf(pts, seq.frames[i].pose, av.camera)), `frame ${i} mouth`).toBeGreaterThanOrEqual(35);
      let samples = 0;
      for (const v of e.samplesPerRay) samples += v;
      if (i > 0) {
        macsExact += samples * (half.sigma + half.colour) + torsoCount * torsoPixelMacs(seq.weights);
        macsFast += f.stats.macs;
      }
    }
    // Marching every pixel still saves: rays start at the previous surface, colour only where it shows, no torso under the head.
    expect(macsFast / macsExact).toBeLessThan(0.7);
  }, 240_000);
});
