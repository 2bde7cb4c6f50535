/**
 * End to end on a rendered test video with exactly known camera and head poses: the
 * public-domain astronaut photo textured onto MediaPipe's canonical face mesh, turned and
 * moved by a known trajectory in front of a known pinhole camera, through detection, mesh
 * tracking and the focal/pose bundle adjustment.
 *
 * Issue 10 asks for rotations within 2 degrees and focal within 5%. Measured here (24 frames):
 * yaw and roll within ~2.3 degrees; pitch up to ~7 degrees off (the mesh model under-reports
 * nods on this flat-textured render: its nose tip lags ~5 px at 12 degrees of pitch even with
 * the true pose known) and the landmark focal search inherits that (~22% low) (session 3,
 * landmark poses; the photometric focal and poses below meet the issue's bounds: see the end of
 * this note).
 * Why (measured 12:50 UTC, session 3): the solver is exact on the true projections (0.0% focal,
 * 0.00 deg) and within bounds on a face 6 mm off the canonical shape with 1 px noise
 * (face-pose-accuracy.test.ts); given the TRUE focal, the tracked landmarks still give 6.6 deg
 * of pitch error. The error is one-sided: downward pitch is tracked within 1 deg, upward pitch
 * (chin towards the camera) is under-reported by up to 9 deg. It does not change with the crop
 * (ROI from the true projection: 6.6 deg), with re-detection every frame (6.0), or with a
 * skull and neck drawn behind the face mask (6.0): it is the face-mesh model's own response to
 * this render, so the solver cannot remove it.
 * Session 5: the pipeline now refines the landmark poses on the pixels (worker/face/photometric.ts,
 * fit-video.ts refineVideoPhotometric), which removes the landmark model's pitch bias: max pitch /
 * yaw / roll error 2.24 / 2.47 / 0.32 deg at the landmark focal (22% low).
 * Session 6: the focal is searched on the pixels too (fit-video.ts searchFocalPhotometric): +2.9%,
 * and the refined poses at it are within 0.5 deg on every axis: the issue's bounds are met here.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { fitVideo, refineVideoPhotometric, searchFocalPhotometric, searchRelief } from '../../worker/face/fit-video.ts';
import { IBUG68_FROM_MESH, meshToIbug68 } from '../../worker/face/ibug68.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { renderHead, testBackground, type TexturedMesh } from '../helpers/face-render.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;
const SIZE = 512;
const FOCAL = 1.3 * SIZE;
const FRAMES = 24;

function truePose(i: number): HeadPose {
  const s = i / FRAMES;
  const yaw = 22 * Math.sin(2 * Math.PI * s) * DEG;
  const pitch = 9 * Math.sin(4 * Math.PI * s + 1) * DEG;
  const roll = 6 * Math.sin(2 * Math.PI * s + 2) * DEG;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, yaw, 0]), mat3Mul(rodrigues([pitch, 0, 0]), rodrigues([0, 0, roll]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}

describe('focal and head poses from a rendered video', () => {
  let models: FaceModels;
  let head: TexturedMesh;
  let background: RgbFrame;
  beforeAll(async () => {
    models = await loadFaceModels(nodeFaceModelSource);
    const photo = decodeImage(readFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url)));
    const mesh = new FaceTracker(models).track(photo).mesh!;
    const uv = new Float32Array(468 * 2);
    for (let i = 0; i < 468; i++) {
      uv[i * 2] = mesh.points[i * 3];
      uv[i * 2 + 1] = mesh.points[i * 3 + 1];
    }
    head = { vertices: models.canonical.vertices, triangles: models.canonical.triangles, uv, texture: photo };
    background = testBackground(SIZE, SIZE);
  });

  it('recovers the focal within 5% and every rotation within 2 degrees (photometric)', async () => {
    const tracker = new FaceTracker(models);
    const meshes: (Float32Array | null)[] = [];
    const frames: RgbFrame[] = [];
    for (let i = 0; i < FRAMES; i++) {
      frames.push(renderHead(head, truePose(i), FOCAL, background));
      meshes.push(tracker.track(frames[i]).mesh?.points ?? null);
    }
    expect(meshes.every((m) => m !== null)).toBe(true);
    // Mouth landmarks (iBUG 48-67) against the true projection of their mesh vertices, as a
    // share of the face's width (jaw 0 to 16). This render has no mouth motion: it measures
    // placement across head poses, not tracking of an opening mouth.
    let mouthWorst = 0;
    let mouthSum = 0;
    meshes.forEach((m, i) => {
      const { R, t } = truePose(i);
      const proj = (v: number): [number, number] => {
        const V = models.canonical.vertices;
        const p = [0, 1, 2].map((r) => R[r * 3] * V[v * 3] + R[r * 3 + 1] * V[v * 3 + 1] + R[r * 3 + 2] * V[v * 3 + 2] + t[r]);
        return [(FOCAL * p[0]) / p[2] + SIZE / 2, (FOCAL * p[1]) / p[2] + SIZE / 2];
      };
      const lms = meshToIbug68(m!, 2);
      const [j0, j16] = [proj(IBUG68_FROM_MESH[0]), proj(IBUG68_FROM_MESH[16])];
      const width = Math.hypot(j16[0] - j0[0], j16[1] - j0[1]);
      for (let k = 48; k < 68; k++) {
        const q = proj(IBUG68_FROM_MESH[k]);
        const e = Math.hypot(lms[k * 2] - q[0], lms[k * 2 + 1] - q[1]) / width;
        mouthWorst = Math.max(mouthWorst, e);
        mouthSum += e;
      }
    });
    const mouthMean = mouthSum / (FRAMES * 20);
    console.log(`mouth landmarks: mean ${(mouthMean * 100).toFixed(2)}%, worst ${(mouthWorst * 100).toFixed(2)}% of the face width`);
    // Issue 10 asks for 2%; NOT met: measured 2.22% mean, 5.38% worst (deterministic), pinned just
    // above. The error is systematic, not crop or lag noise (bench/pose/mouth-lab.ts,
    // docs/prepare.md "Mouth landmarks"): the mesh model draws this mouth taller than its vertices
    // (upper outer lip 1.7% high, lower 2.7% low), ~1% on frontal frames and ~3% at 22 degrees of
    // yaw; a crop from the true projection gives 2.58%, a frontalised re-detection 2.58%.
    expect(mouthMean).toBeLessThan(0.025);
    expect(mouthWorst).toBeLessThan(0.06);
    const fit = fitVideo(meshes, SIZE, SIZE, models.canonical);
    const focalErr = Math.abs(fit.intrinsics.f - FOCAL) / FOCAL;
    // Rotations: the estimate's head frame may differ from the truth's by one fixed rotation G
    // (R_est = R_true G); estimate G as the mean relative rotation, then compare frame by frame.
    // Unsmoothed per-frame poses: this trajectory is far faster than a talking head moves, so the
    // 5-frame smoothing written to the transforms would attenuate it.
    const errors = (est: HeadPose[]) => {
      const g = [0, 0, 0];
      est.forEach((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), p.R)).forEach((v, d) => (g[d] += v / FRAMES)));
      const G = rodrigues(g);
      const errs = est.map((p, i) => rotationAngle(mat3Mul(p.R, mat3T(G)), truePose(i).R) / DEG);
      // Per axis in head coordinates: x = pitch (nod), y = yaw (turn), z = roll (tilt).
      const axis = est.map((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), mat3Mul(p.R, mat3T(G)))).map((v) => Math.abs(v) / DEG));
      return { align: Math.hypot(...g) / DEG, max: Math.max(...errs), mean: errs.reduce((a, b) => a + b) / FRAMES, axis: [0, 1, 2].map((d) => Math.max(...axis.map((a) => a[d]))) };
    };
    const lm = errors(fit.frames.map((fr) => fr!.pose));
    console.log(`landmarks: focal ${fit.intrinsics.f.toFixed(1)} (true ${FOCAL}, ${(focalErr * 100).toFixed(2)}%), alignment ${lm.align.toFixed(2)} deg, rotation error max ${lm.max.toFixed(2)} mean ${lm.mean.toFixed(2)} deg, rms ${(fit.frames.reduce((s, f) => s + f!.rmsPx, 0) / FRAMES).toFixed(2)} px, max |pitch| ${lm.axis[0].toFixed(2)} |yaw| ${lm.axis[1].toFixed(2)} |roll| ${lm.axis[2].toFixed(2)} deg`);
    expect(lm.axis[1]).toBeLessThan(3);
    expect(lm.axis[2]).toBeLessThan(3);
    expect(lm.axis[0]).toBeLessThan(8);
    expect(lm.mean).toBeLessThan(3.5);
    expect(focalErr).toBeLessThan(0.3);
    // The landmark poses refined on the pixels at the landmark focal (photometric.ts).
    const refined = await refineVideoPhotometric(fit, meshes, models.canonical, { read: (i) => frames[i] });
    const ph = errors(refined.fit.frames.map((fr) => fr!.pose));
    console.log(`photometric at the landmark focal: ${refined.fallbacks} fallbacks, alignment ${ph.align.toFixed(2)} deg, rotation error max ${ph.max.toFixed(2)} mean ${ph.mean.toFixed(2)} deg, max |pitch| ${ph.axis[0].toFixed(2)} |yaw| ${ph.axis[1].toFixed(2)} |roll| ${ph.axis[2].toFixed(2)} deg`);
    expect(refined.fallbacks).toBe(0);
    // Measured 03:45 UTC session 5: pitch 2.24, yaw 2.47, roll 0.32 (landmark poses: 7.11 / 2.27 / 2.17).
    expect(ph.axis[0]).toBeLessThan(3.5);
    expect(ph.axis[2]).toBeLessThan(1);
    expect(ph.axis[0]).toBeLessThan(lm.axis[0] - 2);
    // What the pipeline writes: the focal searched on the pixels (this head turns +-22 degrees,
    // enough to observe it), the landmark fit redone at that focal, then refined on the pixels.
    const search = await searchFocalPhotometric(fit, meshes, models.canonical, { read: (i) => frames[i] });
    const searchErr = Math.abs(search.f - FOCAL) / FOCAL;
    console.log(`photometric focal: ${search.f.toFixed(1)} (${(searchErr * 100).toFixed(2)}%), observed ${search.observed}, motion ${search.motionDeg.toFixed(1)} deg, ${search.curve.length} focals tried`);
    expect(search.observed).toBe(true);
    expect(search.landmarkF).toBe(fit.intrinsics.f);
    expect(search.motionDeg).toBeGreaterThan(15);
    // Issue 10: focal within 5%. Measured 07:33 UTC session 6: 685.0 px, +2.9% (-0.8% with the middle
    // frame as the reference, which failed on bench/prepare.ts's one-sided turn: docs/prepare.md).
    expect(searchErr).toBeLessThan(0.04);
    const atF = fitVideo(meshes, SIZE, SIZE, models.canonical, { focal: search.f });
    // The depth relief (fit-video.ts searchRelief): this head IS the canonical face, so the search
    // must not move its depth far from 1 (the texture at another relief turns every pose wrong).
    const relief = await searchRelief(atF, meshes, models.canonical, { read: (i) => frames[i] });
    console.log(`relief: ${relief.relief} (${relief.observed ? 'observed' : relief.reason}); landmark residual ${relief.curve.map((c) => `${c.relief}: ${c.residual.toFixed(3)}`).join(', ')}`);
    expect(Math.abs(relief.relief - 1)).toBeLessThanOrEqual(0.1);
    const final = await refineVideoPhotometric(atF, meshes, models.canonical, { read: (i) => frames[i], relief: relief.relief });
    const fin = errors(final.fit.frames.map((fr) => fr!.pose));
    console.log(`photometric at the searched focal: ${final.fallbacks} fallbacks, rotation error max ${fin.max.toFixed(2)} mean ${fin.mean.toFixed(2)} deg, max |pitch| ${fin.axis[0].toFixed(2)} |yaw| ${fin.axis[1].toFixed(2)} |roll| ${fin.axis[2].toFixed(2)} deg`);
    expect(final.fallbacks).toBe(0);
    // Issue 10: rotation within 2 degrees after one global alignment. Measured 06:30 UTC session 6:
    // max pitch / yaw / roll 0.46 / 0.39 / 0.46 deg, mean 0.46 (0.57 / 0.27 / 0.40 at the true focal).
    expect(Math.max(...fin.axis)).toBeLessThan(1.5);
    expect(fin.max).toBeLessThan(1.5);
    expect(fin.mean).toBeLessThan(1);
    // ~10 s on a quiet 2-core machine, 51 s at load average 20: room for a loaded CI run.
  }, 300_000);
});
