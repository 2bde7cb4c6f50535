/**
 * Issue 10, the training proof's gap: prepare's cameras fit the face but not the rest of the
 * head. A NeRF places the head's outline (hair against the background, the ears) 6-9 cm behind
 * the face, where a rotation error the face alone tolerates moves it by that depth times the
 * error (docs/prepare.md "The head's outline"). The photometric refinement with the head beyond
 * the face in its texture (photometric.ts headShellTexture, fit-video.ts headMask) must leave
 * the outline consistent: the synthetic head's own outline points, seen by the truth's cameras,
 * triangulated through the estimated ones, must reproject closer than with the face alone,
 * without giving up the face's own points.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../helpers/temp-dirs.ts';
import { writeSynthSubject } from '../helpers/synth-fixture.ts';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { fitVideo, focalAtDistance, refineVideoPhotometric } from '../../worker/face/fit-video.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose, Intrinsics } from '../../worker/face/pose-solver.ts';
import { triangulatePoint } from '../../worker/face/structure.ts';
import { FaceTracker, loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { segmentPerson } from '../../worker/face/segmenter.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { LABEL, labelPerson } from '../../worker/prepare/masks.ts';
import { makeIdentity } from '../../worker/synth/face.ts';

const SIZE = 192;
const FRAMES = 150;
const SEED = 3;
let dir: string;
let models: FaceModels;
let frames: RgbFrame[];
let meshes: (Float32Array | null)[];
let truth: number[][][];
let meta: { focal: number; cx: number; cy: number };

afterAll(removeTempDirs);

beforeAll(async () => {
  // The proof's framing (zoom 1.5), the head moving twice as much to turn a few degrees in 6 s.
  dir = await writeSynthSubject({ size: SIZE, frames: FRAMES, seed: SEED, zoom: 1.5, headMotion: 2 }, undefined, 2);
  models = await loadFaceModels(nodeFaceModelSource);
  const ids = Array.from({ length: FRAMES }, (_, i) => i);
  frames = ids.map((i) => decodeImage(readFileSync(`${dir}/ori_imgs/${i}.jpg`)));
  const tracker = new FaceTracker(models);
  meshes = frames.map((f) => tracker.track(f).mesh?.points ?? null);
  truth = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${dir}/transforms_${s}.json`, 'utf8')).frames.map((f: { transform_matrix: number[][] }) => f.transform_matrix));
  meta = JSON.parse(readFileSync(`${dir}/ground_truth/meta.json`, 'utf8'));
}, 300_000);

/** The truth's projection (continuous pixels) of a head-frame point (metres) in frame i. */
function project(i: number, X: number[]): number[] {
  const m = truth[i];
  const d = [X[0] - m[0][3], X[1] - m[1][3], X[2] - m[2][3]];
  const c = [0, 1, 2].map((k) => m[0][k] * d[0] + m[1][k] * d[1] + m[2][k] * d[2]);
  return [meta.cx + (meta.focal * c[0]) / -c[2], meta.cy - (meta.focal * c[1]) / -c[2]];
}

/** RMS reprojection residual (px) of the points, each triangulated through the estimated cameras. */
function residual(poses: HeadPose[], k: Intrinsics, points: number[][]): number {
  let sse = 0;
  for (const X0 of points) {
    const views = poses.map((_, i) => Float64Array.from(project(i, X0)));
    const p = poses[0];
    const z = p.t[2];
    const cam = [((views[0][0] - k.cx) * z) / k.f - p.t[0], ((views[0][1] - k.cy) * z) / k.f - p.t[1], 0];
    const X = [0, 1, 2].map((r) => p.R[r] * cam[0] + p.R[3 + r] * cam[1] + p.R[6 + r] * cam[2]);
    triangulatePoint(X, { views, stride: 2, index: 0 }, poses, k, { iterations: 30, tolerance: 1e-7 });
    poses.forEach((q, i) => {
      const c = [0, 1, 2].map((r) => q.R[r * 3] * X[0] + q.R[r * 3 + 1] * X[1] + q.R[r * 3 + 2] * X[2] + q.t[r]);
      sse += ((k.f * c[0]) / c[2] + k.cx - views[i][0]) ** 2 + ((k.f * c[1]) / c[2] + k.cy - views[i][1]) ** 2;
    });
  }
  return Math.sqrt(sse / (points.length * poses.length));
}

describe('head poses that hold the whole head, not only the face', () => {
  it('the head beyond the face in the photometric texture makes the outline consistent', async () => {
    expect(meshes.every((m) => m !== null)).toBe(true);
    // The camera the pipeline assumes for a video this still (focal unobservable: 50 cm away).
    const fit0 = fitVideo(meshes, SIZE, SIZE, models.canonical);
    const fit = fitVideo(meshes, SIZE, SIZE, models.canonical, { focal: focalAtDistance(fit0) });
    const read = (i: number) => frames[i];
    const face = await refineVideoPhotometric(fit, meshes, models.canonical, { read });
    const headMask = (img: RgbFrame, i: number) => labelPerson(segmentPerson(models.segmenter, img), img.rgb, meshes[i]!, fit.frames[i]!.lms, SIZE, SIZE).map((v) => (v === LABEL.head ? 1 : 0));
    const head = await refineVideoPhotometric(fit, meshes, models.canonical, { read, headMask });
    expect(face.fallbacks).toBe(0);
    expect(head.fallbacks).toBe(0);
    // The outline: the hair cap's rim over the top (ear level up), and the ears.
    const id = makeIdentity(SEED);
    const h = id.hair;
    const outline = [
      ...Array.from({ length: 13 }, (_, j) => [h.c[0] + h.r[0] * Math.cos((Math.PI * j) / 12), h.c[1] + h.r[1] * Math.sin((Math.PI * j) / 12), h.c[2]]),
      ...id.ears.map((e) => [e.c[0] + Math.sign(e.c[0]) * e.r[0], e.c[1], e.c[2]]),
    ];
    const lm = readNpy(new Uint8Array(readFileSync(`${dir}/ground_truth/landmarks_3d_head.npy`))).data as Float32Array;
    const rigid = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45].map((q) => [lm[q * 3], lm[q * 3 + 1], lm[q * 3 + 2]]);
    const poses = (r: typeof face) => r.fit.frames.map((f) => f!.pose);
    const k = fit.intrinsics;
    const faceOutline = residual(poses(face), k, outline);
    const headOutline = residual(poses(head), k, outline);
    const faceRigid = residual(poses(face), k, rigid);
    const headRigid = residual(poses(head), k, rigid);
    console.log(`focal ${k.f.toFixed(1)} (true ${meta.focal.toFixed(1)}): outline residual face-only ${faceOutline.toFixed(3)} px, with the head ${headOutline.toFixed(3)} px; rigid landmarks ${faceRigid.toFixed(3)} / ${headRigid.toFixed(3)} px`);
    expect(headOutline).toBeLessThan(0.7 * faceOutline);
    expect(headRigid).toBeLessThan(1.1 * faceRigid);
  }, 300_000);
});
