import { describe, expect, it } from 'vitest';
import { demoPoses } from '../../worker/avatar/synthetic.ts';
import { headMotion, mouthPixelsOf, mouthPoints, orbitPose, speechOpening } from '../helpers/fast-sequence.ts';

const camera = { fx: 100, fy: 100, cx: 32, cy: 32, width: 64, height: 64 };

/** Camera coordinates of world point x under camera-to-world pose m (R^T (x - t)). */
function toCamera(m: Float32Array, x: number[]): number[] {
  const v = [x[0] - m[3], x[1] - m[7], x[2] - m[11]];
  return [0, 1, 2].map((k) => m[k] * v[0] + m[4 + k] * v[1] + m[8 + k] * v[2]);
}

describe('fast-mode bench sequences (tests/helpers/fast-sequence.ts)', () => {
  const pose = demoPoses(4).slice(16, 32);

  it('orbitPose turns the camera about the world origin: rotation stays orthonormal, the origin stays put in the image, other points move', () => {
    expect(Array.from(orbitPose(pose, 0, 0))).toEqual(Array.from(pose).map((v) => expect.closeTo(v, 6)));
    const m = orbitPose(pose, 0.12, -0.04);
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        const dot = m[a] * m[b] + m[4 + a] * m[4 + b] + m[8 + a] * m[8 + b];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    const o0 = toCamera(pose, [0, 0, 0]);
    const o1 = toCamera(m, [0, 0, 0]);
    for (let k = 0; k < 3; k++) expect(o1[k]).toBeCloseTo(o0[k], 5);
    const p0 = toCamera(pose, [0.3, 0.1, 0.2]);
    const p1 = toCamera(m, [0.3, 0.1, 0.2]);
    expect(Math.hypot(p1[0] - p0[0], p1[1] - p0[1])).toBeGreaterThan(0.01);
  });

  it('the sequence has silences, speech onsets and a fast head turn', () => {
    const open = Array.from({ length: 250 }, (_, t) => speechOpening(t));
    expect(open.filter((v) => v === 0).length).toBeGreaterThan(25);
    expect(Math.max(...open)).toBeGreaterThan(0.9);
    let fastest = 0;
    for (let t = 1; t < 250; t++) fastest = Math.max(fastest, Math.abs(headMotion(t).yaw - headMotion(t - 1).yaw));
    expect(fastest).toBeGreaterThan(0.02); // radians a frame: the turn, not the sway (~0.006)
  });

  it('the mouth region is the padded box around the projected mouth points, and a render pair without a difference is refused', () => {
    const c = toCamera(pose, [0, 0, 0]);
    const col = (camera.fx * c[0]) / c[2] + camera.cx;
    const row = (camera.fy * c[1]) / c[2] + camera.cy;
    const box = mouthPixelsOf(Float32Array.from([0, 0, 0]), pose, camera);
    expect(box).toContain(Math.floor(row) * 64 + Math.floor(col));
    expect(box.length).toBeLessThanOrEqual(4);
    const img = new Float32Array(4 * 3);
    const surface = new Float32Array(4 * 3);
    expect(() => mouthPoints(img, img, surface)).toThrow(/do not differ/);
    const open = img.slice();
    open[3] = 0.5; // pixel 1
    surface.set([1, 2, 3], 3);
    expect(Array.from(mouthPoints(open, img, surface))).toEqual([1, 2, 3]);
  });
});
