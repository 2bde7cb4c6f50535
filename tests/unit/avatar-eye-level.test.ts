/**
 * Idle blinks open the eyes as wide as the avatar's own open eye. The blink schedule speaks the
 * reference's scale (DEFAULT_EYE = open); each avatar's open value is its own (the built-in's is
 * 0.365, a prepared subject's the level prepare wrote), so the renderer scales the one to the other.
 * Before, the built-in rendered 0.25 between blinks: eyes about two thirds open all call long.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { DEFAULT_BLINKS } from '../../worker/engine/blinks.ts';
import { AvatarRenderer } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';
import { DEFAULT_EYE, eyeOpenLevel, smoothEye } from '../../worker/model/poses.ts';

const SIDE = 48;

function maxDiff(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) if (k % 4 !== 3) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

describe('eye level of idle blinks', () => {
  it('takes the median of the eye track, ignoring blinks, and the reference value without one', () => {
    const track = new Float32Array(100).fill(0.31);
    track.fill(0.02, 40, 44);
    track[70] = 0.29;
    expect(eyeOpenLevel(track)).toBeCloseTo(0.31, 6);
    expect(eyeOpenLevel(null)).toBe(DEFAULT_EYE);
    expect(eyeOpenLevel(new Float32Array(0))).toBe(DEFAULT_EYE);
    expect(eyeOpenLevel(new Float32Array(5))).toBe(DEFAULT_EYE); // all shut: no usable open level
  });

  it("renders the built-in's own open eye between blinks, and still closes it in a blink", async () => {
    const avatar = await loadBuiltinAvatar();
    const eye = avatar.tensors.get('eye')!.data as Float32Array;
    const open = eyeOpenLevel(eye);
    expect(open).toBeGreaterThan(0.3); // the built-in's open eye is not the reference's 0.25
    // The pose whose smoothed track value is nearest the open level (no blink within a frame of it).
    let p = 0;
    for (let i = 1; i < eye.length; i++) if (Math.abs(smoothEye(eye, eye.length, i) - open) < Math.abs(smoothEye(eye, eye.length, p) - open)) p = i;
    expect(Math.abs(smoothEye(eye, eye.length, p) - open)).toBeLessThan(1e-4);
    const r = await AvatarRenderer.create(avatar, true, { backend: 'cpu', maxSide: SIDE, cpuMaxSide: SIDE, quality: 'exact' });
    const render = async (e: number | null): Promise<Uint8ClampedArray> => {
      const input: RenderInput = { timestampUs: 0, landmarks: null, poseIndex: p, eye: e, audioLevel: 0 };
      const f = await r.render(input);
      if (f.kind !== 'rgba') throw new Error('expected rgba from the CPU path');
      return f.data.slice();
    };
    try {
      const own = await render(null);
      const rest = await render(DEFAULT_BLINKS.rest);
      const shut = await render(DEFAULT_BLINKS.closed);
      const rested = maxDiff(own, rest);
      const blinked = maxDiff(own, shut);
      console.log(`built-in open eye ${open.toFixed(3)}: between blinks max diff ${rested} levels from its own open frame, in a blink ${blinked}`);
      expect(rested).toBeLessThanOrEqual(1);
      expect(blinked).toBeGreaterThan(20);
    } finally {
      r.destroy();
    }
  }, 120_000);
});
