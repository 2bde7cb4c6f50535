/**
 * Face detection and the 468 -> 68 landmark map on a real photograph (the public-domain
 * astronaut image from scikit-image, a test-only fixture): one face found where it is, the 68
 * points in iBUG order (each group where anatomy puts it), the mirror image giving mirrored
 * landmarks, and no face / two faces reported as such.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../worker/io/image.node.ts';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { detectFaces } from '../../worker/face/detector.ts';
import { eyeRatio, eyeRatioOfLids, IBUG68_FROM_MESH, meshToIbug68 } from '../../worker/face/ibug68.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { FaceTracker, loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';

const photo = decodeImage(readFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url)));

function mirrored(f: RgbFrame): RgbFrame {
  const rgb = new Uint8Array(f.rgb.length);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const s = (y * f.width + x) * 3;
      const d = (y * f.width + (f.width - 1 - x)) * 3;
      rgb.set(f.rgb.subarray(s, s + 3), d);
    }
  }
  return { width: f.width, height: f.height, rgb };
}

/** iBUG index of the same anatomical point on the other side of the face. */
function mirrorIndex(i: number): number {
  if (i <= 16) return 16 - i;
  if (i <= 26) return 43 - i;
  if (i <= 30) return i;
  if (i <= 35) return 66 - i;
  const eye: Record<number, number> = { 36: 45, 37: 44, 38: 43, 39: 42, 40: 47, 41: 46 };
  if (i <= 47) return eye[i] ?? Number(Object.keys(eye).find((k) => eye[Number(k)] === i));
  if (i <= 54) return 102 - i;
  if (i <= 59) return 114 - i;
  if (i <= 64) return 124 - i;
  return 132 - i;
}

const mean = (l: Float32Array, ids: number[], k: 0 | 1): number => ids.reduce((s, i) => s + l[i * 2 + k], 0) / ids.length;
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('face detection and 68 landmarks', () => {
  let models: FaceModels;
  beforeAll(async () => {
    models = await loadFaceModels(nodeFaceModelSource);
  });

  it('finds the one face in the photograph, where it is', () => {
    const faces = detectFaces(models.detector, photo);
    expect(faces).toHaveLength(1);
    const [f] = faces;
    // Hand-measured on the image: eyes at about (203,102) and (248,103), mouth at (224,149).
    expect((f.x0 + f.x1) / 2).toBeGreaterThan(205);
    expect((f.x0 + f.x1) / 2).toBeLessThan(245);
    expect(f.x1 - f.x0).toBeGreaterThan(70);
    expect(f.x1 - f.x0).toBeLessThan(150);
    expect(Math.hypot(f.keypoints[0][0] - 203, f.keypoints[0][1] - 102)).toBeLessThan(8);
    expect(Math.hypot(f.keypoints[1][0] - 248, f.keypoints[1][1] - 103)).toBeLessThan(8);
  });

  it('places the 68 iBUG points group by group', () => {
    const res = new FaceTracker(models).track(photo);
    expect(res.mesh).not.toBeNull();
    expect(res.mesh!.score).toBeGreaterThan(0.9);
    const l = meshToIbug68(res.mesh!.points, 2);
    expect(new Set(IBUG68_FROM_MESH).size).toBe(68);
    // Jaw runs from image left via the chin (8, lowest) to image right.
    for (let i = 1; i <= 16; i++) expect(l[i * 2]).toBeGreaterThan(l[(i - 1) * 2]);
    for (let i = 0; i <= 16; i++) if (i !== 8) expect(l[8 * 2 + 1]).toBeGreaterThanOrEqual(l[i * 2 + 1]);
    // Brows above eyes above nose tip above mouth above chin.
    const browY = mean(l, range(17, 26), 1);
    const eyeY = mean(l, range(36, 47), 1);
    const mouthY = mean(l, range(48, 67), 1);
    expect(browY).toBeLessThan(eyeY);
    expect(eyeY).toBeLessThan(l[30 * 2 + 1]);
    expect(l[30 * 2 + 1]).toBeLessThan(mouthY);
    expect(mouthY).toBeLessThan(l[8 * 2 + 1]);
    // Nose bridge top to tip, lower nose left to right.
    for (let i = 28; i <= 30; i++) expect(l[i * 2 + 1]).toBeGreaterThan(l[(i - 1) * 2 + 1]);
    for (let i = 32; i <= 35; i++) expect(l[i * 2]).toBeGreaterThan(l[(i - 1) * 2]);
    // Subject's right eye (36-41) on the image left; outer corner 36 left of inner corner 39.
    expect(mean(l, range(36, 41), 0)).toBeLessThan(mean(l, range(42, 47), 0));
    expect(l[36 * 2]).toBeLessThan(l[39 * 2]);
    expect(l[42 * 2]).toBeLessThan(l[45 * 2]);
    // Eye centres at the hand-measured pupils; mouth corners 48 (left) and 54 (right).
    expect(Math.hypot(mean(l, range(36, 41), 0) - 203, mean(l, range(36, 41), 1) - 102)).toBeLessThan(5);
    expect(Math.hypot(mean(l, range(42, 47), 0) - 248, mean(l, range(42, 47), 1) - 103)).toBeLessThan(5);
    expect(l[48 * 2]).toBeLessThan(l[54 * 2]);
    expect(Math.hypot((l[48 * 2] + l[54 * 2]) / 2 - 224, (l[48 * 2 + 1] + l[54 * 2 + 1]) / 2 - 145)).toBeLessThan(8);
    // Upper lid above lower lid: eyes open in the photo.
    expect(eyeRatio(l)).toBeGreaterThan(0.15);
    expect(eyeRatio(l)).toBeLessThan(0.5);
  });

  it('takes the eyelids from the attention model, each on its iBUG eye point, and none without it', () => {
    const res = new FaceTracker(models).track(photo);
    expect(models.eyes).not.toBeNull();
    const lids = res.lids!;
    expect(lids).toHaveLength(24);
    const l = meshToIbug68(res.mesh!.points, 2);
    const eyeDist = Math.hypot(l[36 * 2] - l[45 * 2], l[36 * 2 + 1] - l[45 * 2 + 1]);
    // Each of the 12 lid points near the same iBUG point of the face mesh (a lid point of the
    // wrong eye, or the wrong end of a lid, is a third of the eye distance or more away).
    for (let j = 0; j < 12; j++) expect(Math.hypot(lids[j * 2] - l[(36 + j) * 2], lids[j * 2 + 1] - l[(36 + j) * 2 + 1])).toBeLessThan(0.06 * eyeDist);
    // The astronaut's eyes are open.
    expect(eyeRatioOfLids(lids)).toBeGreaterThan(0.15);
    expect(eyeRatioOfLids(lids)).toBeLessThan(0.5);
    // Without the attention model (not loaded) there are no lids: eye_ratio falls back to the mesh's.
    const plain = new FaceTracker({ ...models, eyes: null }).track(photo);
    expect(plain.lids).toBeNull();
    expect(plain.mesh!.points).toEqual(res.mesh!.points);
  });

  it('gives mirrored landmarks for the mirrored photograph', () => {
    const a = meshToIbug68(new FaceTracker(models).track(photo).mesh!.points, 2);
    const b = meshToIbug68(new FaceTracker(models).track(mirrored(photo)).mesh!.points, 2);
    const eyeDist = Math.hypot(a[36 * 2] - a[45 * 2], a[36 * 2 + 1] - a[45 * 2 + 1]);
    let err = 0;
    for (let i = 0; i < 68; i++) {
      const j = mirrorIndex(i);
      err += Math.hypot(photo.width - b[j * 2] - a[i * 2], b[j * 2 + 1] - a[i * 2 + 1]);
    }
    // Mean disagreement under 4% of the eye distance: the map is left/right consistent.
    expect(err / 68).toBeLessThan(0.04 * eyeDist);
  });

  it('reports no face on an empty frame and two faces when there are two', () => {
    const blank: RgbFrame = { width: 320, height: 240, rgb: new Uint8Array(320 * 240 * 3).fill(128) };
    expect(detectFaces(models.detector, blank)).toHaveLength(0);
    expect(new FaceTracker(models).track(blank).mesh).toBeNull();
    // Two copies of the face region side by side.
    const w = 440;
    const h = 220;
    const two: RgbFrame = { width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(200) };
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 200; x++) {
        const s = ((y + 30) * photo.width + (x + 125)) * 3;
        two.rgb.set(photo.rgb.subarray(s, s + 3), ((y + 10) * w + x + 10) * 3);
        two.rgb.set(photo.rgb.subarray(s, s + 3), ((y + 10) * w + x + 230) * 3);
      }
    }
    expect(detectFaces(models.detector, two)).toHaveLength(2);
  });
});
