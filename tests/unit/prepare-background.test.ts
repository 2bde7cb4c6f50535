/**
 * bc.jpg's estimate (worker/prepare/background.ts) and gt_imgs (masks.ts groundTruthImage) beside the silhouette: the grown envelope
 * covers a band around the person in every frame, but gt_imgs replace every pixel the person's
 * own mask calls background by bc, so bc must hold the true background there. A person that
 * sways left and right uncovers that band in some frames; those frames give its colour, not a
 * copy of the nearest pixel the envelope released (on the training proof's subject that copy was
 * most of the difference between prepare's gt_imgs and the frames: docs/prepare.md).
 */
import { describe, expect, it } from 'vitest';
import { BackgroundEstimator, dilatePerson } from '../../worker/prepare/background.ts';
import { groundTruthImage, LABEL } from '../../worker/prepare/masks.ts';

const W = 24;
const H = 4;
/** A background with a distinct colour in every column. */
const bgAt = (x: number): number => 20 + x * 9;
const PERSON = 200;

/** A frame with the person over columns [a, b] and its mask; the envelope is the union of every
 * frame's person span, as a geometric envelope around a swaying head would be. */
function frame(a: number, b: number): { rgb: Uint8Array; mask: Uint8Array } {
  const rgb = new Uint8Array(W * H * 3);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const on = x >= a && x <= b;
      rgb.fill(on ? PERSON : bgAt(x), (y * W + x) * 3, (y * W + x) * 3 + 3);
      mask[y * W + x] = on ? LABEL.head : LABEL.background;
    }
  }
  return { rgb, mask };
}

function envelope(a: number, b: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = a; x <= b; x++) m[y * W + x] = LABEL.head;
  return m;
}

describe('background estimate', () => {
  // The person spans columns 9..14 or 10..15 (sways one column); the envelope, 9..15, grown by
  // 3 columns, covers 6..18 in every frame.
  const spans: [number, number][] = [
    [9, 14],
    [10, 15],
    [9, 14],
    [10, 15],
    [9, 14],
    [10, 15],
  ];

  it('gives the band beside the silhouette the colour its frames show, with the person mask', () => {
    const est = new BackgroundEstimator(W, H, 3);
    for (const [a, b] of spans) {
      const { rgb, mask } = frame(a, b);
      est.add(rgb, envelope(9, 15), mask);
    }
    const bc = est.finish();
    // Columns 6-7 and 17-18: inside the grown envelope, at least 2 columns from every mask
    // (grown by 1 for its anti-aliased edge): the true background.
    for (const x of [6, 7, 17, 18]) {
      expect(bc.rgb[(1 * W + x) * 3]).toBe(bgAt(x));
      expect(bc.known[1 * W + x]).toBe(1);
    }
    // Outside the envelope: the median as before.
    expect(bc.rgb[(1 * W + 2) * 3]).toBe(bgAt(2));
    // Under the person in every frame (column 12): never seen, filled from a seen neighbour.
    expect(bc.known[1 * W + 12]).toBe(0);
    expect(bc.rgb[(1 * W + 12) * 3]).not.toBe(PERSON);
  });

  it('without a mask, or seen in fewer than 3 frames, the band is filled from the nearest seen pixel', () => {
    const noMask = new BackgroundEstimator(W, H, 3);
    for (const [a, b] of spans) noMask.add(frame(a, b).rgb, envelope(9, 15));
    const filled = noMask.finish();
    // Column 6 copies column 5, the nearest released by the grown envelope.
    expect(filled.known[1 * W + 6]).toBe(0);
    expect(filled.rgb[(1 * W + 6) * 3]).toBe(bgAt(5));

    // Column 8 (next to the person at 9, so covered by the grown mask whenever the person is at
    // 9..14) is seen in the 3 frames at 10..15 only when they are present: with 2 such frames it
    // stays filled.
    const few = new BackgroundEstimator(W, H, 3);
    for (const [a, b] of [[9, 14], [10, 15], [9, 14], [10, 15], [9, 14]] as [number, number][]) {
      const { rgb, mask } = frame(a, b);
      few.add(rgb, envelope(9, 15), mask);
    }
    const bc = few.finish();
    expect(bc.known[1 * W + 8]).toBe(0);
    expect(bc.known[1 * W + 7]).toBe(1);
    expect(bc.rgb[(1 * W + 7) * 3]).toBe(bgAt(7));
  });
});

describe('gt_imgs beside the silhouette', () => {
  it('keeps the frame where the mask edge is uncertain and puts bc on the rest of the background', () => {
    // The mask cut one column into the person (the frame's person spans 8..14, the mask 9..14):
    // gt_imgs must still show the person at column 8, and bc two columns out and beyond.
    const { rgb } = frame(8, 14);
    const { mask } = frame(9, 14);
    const bc = new Uint8Array(W * H * 3).fill(77);
    const gt = groundTruthImage(rgb, mask, bc, dilatePerson(mask, W, H, 2));
    const at = (x: number) => gt[(1 * W + x) * 3];
    expect(at(8)).toBe(PERSON);
    expect(at(7)).toBe(bgAt(7));
    expect(at(6)).toBe(77);
    expect(at(16)).toBe(bgAt(16));
    expect(at(17)).toBe(77);
    expect(at(12)).toBe(PERSON);
    // Without the band (the reference's plain replacement) the cut column shows bc.
    expect(groundTruthImage(rgb, mask, bc)[(1 * W + 8) * 3]).toBe(77);
  });
});
