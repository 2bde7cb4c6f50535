import { describe, expect, it } from 'vitest';
import { demoLandmarkTrack, LOWER_INNER_LIP, makeDemoAvatar, UPPER_INNER_LIP } from '../../worker/avatar/synthetic.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { CpuRenderer, toRgba8 } from '../../worker/model/cpu-renderer.ts';
import { prepareFrames } from '../../worker/model/track.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { toFloat32 } from '../../worker/avatar/tensor.ts';

const SIZE = 64;

/** The demo avatar seen by a 64x64 camera with the same field of view (keeps the test fast). */
function smallDemo(): Avatar {
  const a = makeDemoAvatar();
  const s = SIZE / a.camera.width;
  const bg = a.tensors.get('background')!;
  const src = bg.data as Uint8Array;
  const small = new Uint8Array(SIZE * SIZE * 3);
  for (let r = 0; r < SIZE; r++)
    for (let c = 0; c < SIZE; c++)
      for (let k = 0; k < 3; k++) small[(r * SIZE + c) * 3 + k] = src[(Math.floor(r / s) * a.camera.width + Math.floor(c / s)) * 3 + k];
  a.camera = { fx: a.camera.fx * s, fy: a.camera.fy * s, cx: SIZE / 2, cy: SIZE / 2, width: SIZE, height: SIZE };
  a.tensors.set('background', { ...bg, shape: [SIZE, SIZE, 3], data: small });
  return a;
}

/** Renders frame t of a track in which only the inner-lip gap changes. */
function renderWithOpening(avatar: Avatar, openings: number[], t: number): Uint8ClampedArray {
  const frames = openings.length;
  const track = demoLandmarkTrack(frames).fill(0);
  openings.forEach((o, f) => {
    track[(f * 68 + UPPER_INNER_LIP) * 3 + 1] = o / 2;
    track[(f * 68 + LOWER_INNER_LIP) * 3 + 1] = -o / 2;
    // tiny spread elsewhere so no statistic is degenerate
    track[(f * 68) * 3] = 0.001 * f;
  });
  const weights = loadModelWeights(avatar);
  const poses = avatar.tensors.get('poses')!;
  const frame = [...prepareFrames(weights, toFloat32(poses), poses.shape[0], track, frames)][t];
  return toRgba8(new CpuRenderer(weights, avatar.camera).render(frame).image, SIZE, SIZE);
}

function regionMean(img: Uint8ClampedArray, r0: number, r1: number, c0: number, c1: number): number {
  let s = 0;
  let n = 0;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      const o = (r * SIZE + c) * 4;
      s += img[o] + img[o + 1] + img[o + 2];
      n += 3;
    }
  return s / n;
}

describe('the built-in demo avatar', () => {
  it('is a valid avatar that survives a float16 round trip through the .r2t file', async () => {
    const bytes = writeAvatar(makeDemoAvatar(), { weightDtype: 'float16' });
    const back = await readAvatar(bytes);
    expect(back.name).toBe('R2 Talker demo head');
    expect(back.tensors.get('encoder.embeddings')!.dtype).toBe('float16');
    expect(bytes.byteLength).toBeLessThan(8 * 2 ** 20);
  });

  it('renders a head over the background: corners are background, the face centre is skin', () => {
    const a = smallDemo();
    const img = renderWithOpening(a, [0, 0, 0, 0, 0, 0], 3);
    const bg = a.tensors.get('background')!.data as Uint8Array;
    // corner pixel: nothing there but background (float16-rounded background truncated to uint8)
    for (let k = 0; k < 3; k++) expect(Math.abs(img[k] - bg[k])).toBeLessThanOrEqual(1);
    const centre = ((SIZE / 2) * SIZE + SIZE / 2) * 4;
    const [r, g, b] = [img[centre], img[centre + 1], img[centre + 2]];
    expect(r).toBeGreaterThan(g);
    expect(g).toBeGreaterThan(b);
    expect(r).toBeGreaterThan(120);
  });

  it('opens its mouth with the inner-lip landmarks: the mouth region darkens, the forehead does not change', () => {
    const a = smallDemo();
    const closed = renderWithOpening(a, [0, 0, 0, 0.16, 0.16, 0.16, 0], 1);
    const open = renderWithOpening(a, [0, 0, 0, 0.16, 0.16, 0.16, 0], 4);
    // the mouth (world y = -0.3 on the face front, ~2.7 from the camera) is at rows ~42-46
    const mouthClosed = regionMean(closed, 43, 46, 29, 35);
    const mouthOpen = regionMean(open, 43, 46, 29, 35);
    expect(mouthClosed - mouthOpen).toBeGreaterThan(20);
    const foreheadDiff = Math.abs(regionMean(closed, 18, 22, 28, 36) - regionMean(open, 18, 22, 28, 36));
    expect(foreheadDiff).toBeLessThan(6);
  });
});
