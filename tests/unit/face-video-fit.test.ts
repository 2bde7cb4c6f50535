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
 * Session 10: the mouth (issue 10: within 2% of the face width) is checked on a second head, the
 * photo's own shape, whose mouth opens as its texture does; on the canonical face the photo's
 * smile is squeezed into a closed mouth and read 1.29x too tall (docs/prepare.md "Mouth landmarks:
 * the render's mouth contradicted its texture").
 * Session 11: a head whose lips close over its teeth and open wide and whose eyes blink (lips and
 * lids slide over interiors of their own), checked through the landmarks and prepare's eye_ratio.
 * Session 14: session 6's +2.9% came from one reference frame; another near the middle of the
 * motion gives +23.9%. The search now needs two references to agree, so on this render the
 * focal written is the distance prior's (docs/prepare.md "Focal: one reference frame is not enough").
 * Session 15: with the reference frame's pose adjusted jointly with the others' (joint-photometric.ts),
 * both references land within 1.5% and the searched focal is written again (+1.2%).
 * Session 16: one talking render meets the focal, the rotations and the mouth together: the
 * canonical face above the subnasale, the photo's shape below it (`canonical-upper`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { fitVideo, focalAtDistance, refineVideoPhotometric, searchFocalPhotometric } from '../../worker/face/fit-video.ts';
import { steadyEyeRatio } from '../../worker/face/eye-steady.ts';
import { eyeRatio, IBUG68_FROM_MESH, meshToIbug68 } from '../../worker/face/ibug68.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { articulatedHead, astronautHead, lowerLipWeights, talkingState } from '../helpers/face-video.ts';
import { renderHead, testBackground, type TexturedMesh } from '../helpers/face-render.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;
const SIZE = 512;
const FOCAL = 1.3 * SIZE;
const FRAMES = 24;

/** The render's trajectory; `phase` and `amp` give the mouth check a second one. */
function truePose(i: number, phase = 0, amp = 1): HeadPose {
  const s = i / FRAMES;
  const yaw = amp * 22 * Math.sin(2 * Math.PI * s + phase) * DEG;
  const pitch = amp * 9 * Math.sin(4 * Math.PI * s + 1 + phase) * DEG;
  const roll = 6 * Math.sin(2 * Math.PI * s + 2 + phase) * DEG;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, yaw, 0]), mat3Mul(rodrigues([pitch, 0, 0]), rodrigues([0, 0, roll]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}

/** Mouth landmarks (iBUG 48-67, the tracker's mesh through the 478->68 map) against the true
 * projection of the same mesh vertices of the rendered head (one, or one per frame), as a share of
 * the face's width (jaw 0 to 16); `height`: the mouth's outer height (vertices 0-17) over the
 * truth's, mean over frames; `opening`: the inner lips' distance (13-14) per frame, true and
 * tracked, as a share of the face's width. */
function mouthError(head: TexturedMesh | TexturedMesh[], meshes: (Float32Array | null)[], pose: (i: number) => HeadPose): { mean: number; worst: number; height: number; opening: { truth: number[]; tracked: number[] } } {
  let worst = 0;
  let sum = 0;
  let height = 0;
  const truth: number[] = [];
  const tracked: number[] = [];
  meshes.forEach((m, i) => {
    const { R, t } = pose(i);
    const V = (Array.isArray(head) ? head[i] : head).vertices;
    const proj = (v: number): [number, number] => {
      const p = [0, 1, 2].map((r) => R[r * 3] * V[v * 3] + R[r * 3 + 1] * V[v * 3 + 1] + R[r * 3 + 2] * V[v * 3 + 2] + t[r]);
      return [(FOCAL * p[0]) / p[2] + SIZE / 2, (FOCAL * p[1]) / p[2] + SIZE / 2];
    };
    const lms = meshToIbug68(m!, 2);
    const [j0, j16] = [proj(IBUG68_FROM_MESH[0]), proj(IBUG68_FROM_MESH[16])];
    const width = Math.hypot(j16[0] - j0[0], j16[1] - j0[1]);
    for (let k = 48; k < 68; k++) {
      const q = proj(IBUG68_FROM_MESH[k]);
      const e = Math.hypot(lms[k * 2] - q[0], lms[k * 2 + 1] - q[1]) / width;
      worst = Math.max(worst, e);
      sum += e;
    }
    const [q0, q17, q13, q14] = [proj(0), proj(17), proj(13), proj(14)];
    height += Math.hypot(m![0] - m![17 * 3], m![1] - m![17 * 3 + 1]) / Math.hypot(q0[0] - q17[0], q0[1] - q17[1]) / meshes.length;
    truth.push(Math.hypot(q13[0] - q14[0], q13[1] - q14[1]) / width);
    tracked.push(Math.hypot(m![13 * 3] - m![14 * 3], m![13 * 3 + 1] - m![14 * 3 + 1]) / width);
  });
  return { mean: sum / (meshes.length * 20), worst, height, opening: { truth, tracked } };
}

/** Rotation errors of estimated poses against the trajectory's. The estimate's head frame may
 * differ from the truth's by one fixed rotation G (R_est = R_true G): G is estimated as the mean
 * relative rotation, then frames are compared one by one. Unsmoothed per-frame poses: this
 * trajectory is far faster than a talking head moves, so the 5-frame smoothing written to the
 * transforms would attenuate it. `axis`: the worst per axis in head coordinates (x = pitch, the
 * nod; y = yaw, the turn; z = roll, the tilt). */
function rotationErrors(est: HeadPose[]): { align: number; max: number; mean: number; axis: number[] } {
  const g = [0, 0, 0];
  est.forEach((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), p.R)).forEach((v, d) => (g[d] += v / FRAMES)));
  const G = rodrigues(g);
  const errs = est.map((p, i) => rotationAngle(mat3Mul(p.R, mat3T(G)), truePose(i).R) / DEG);
  const axis = est.map((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), mat3Mul(p.R, mat3T(G)))).map((v) => Math.abs(v) / DEG));
  return { align: Math.hypot(...g) / DEG, max: Math.max(...errs), mean: errs.reduce((a, b) => a + b) / FRAMES, axis: [0, 1, 2].map((d) => Math.max(...axis.map((a) => a[d]))) };
}

describe('focal and head poses from a rendered video', () => {
  let models: FaceModels;
  let head: TexturedMesh;
  let background: RgbFrame;
  beforeAll(async () => {
    models = await loadFaceModels(nodeFaceModelSource);
    head = astronautHead(models);
    background = testBackground(SIZE, SIZE);
  });

  it('measures the focal within 5% from two reference frames that agree, and every rotation within 2 degrees (photometric)', async () => {
    const tracker = new FaceTracker(models);
    const meshes: (Float32Array | null)[] = [];
    const frames: RgbFrame[] = [];
    for (let i = 0; i < FRAMES; i++) {
      frames.push(renderHead(head, truePose(i), FOCAL, background));
      meshes.push(tracker.track(frames[i]).mesh?.points ?? null);
    }
    expect(meshes.every((m) => m !== null)).toBe(true);
    // Mouth landmarks on this render: the canonical face's closed mouth under the photo's open
    // smile (see the next test for a head whose mouth matches its texture).
    const mouth = mouthError(head, meshes, (i) => truePose(i));
    console.log(`mouth landmarks, canonical head: mean ${(mouth.mean * 100).toFixed(2)}%, worst ${(mouth.worst * 100).toFixed(2)}% of the face width; mouth read ${mouth.height.toFixed(3)}x as tall as its vertices`);
    // Measured 2.22% mean, 5.38% worst, 1.29x as tall (deterministic). Not the tracker's error on a
    // face: the render squeezes the photo's teeth and lips into the canonical face's closed mouth
    // (inner lips 0.58 cm apart, the photo's own mesh 1.22 cm), and the mesh model reads that
    // mouth taller than its vertices (bench/pose/mouth-lab.ts, docs/prepare.md "Mouth landmarks").
    expect(mouth.mean).toBeLessThan(0.025);
    expect(mouth.worst).toBeLessThan(0.06);
    const fit = fitVideo(meshes, SIZE, SIZE, models.canonical);
    const focalErr = Math.abs(fit.intrinsics.f - FOCAL) / FOCAL;
    const lm = rotationErrors(fit.frames.map((fr) => fr!.pose));
    console.log(`landmarks: focal ${fit.intrinsics.f.toFixed(1)} (true ${FOCAL}, ${(focalErr * 100).toFixed(2)}%), alignment ${lm.align.toFixed(2)} deg, rotation error max ${lm.max.toFixed(2)} mean ${lm.mean.toFixed(2)} deg, rms ${(fit.frames.reduce((s, f) => s + f!.rmsPx, 0) / FRAMES).toFixed(2)} px, max |pitch| ${lm.axis[0].toFixed(2)} |yaw| ${lm.axis[1].toFixed(2)} |roll| ${lm.axis[2].toFixed(2)} deg`);
    expect(lm.axis[1]).toBeLessThan(3);
    expect(lm.axis[2]).toBeLessThan(3);
    expect(lm.axis[0]).toBeLessThan(8);
    expect(lm.mean).toBeLessThan(3.5);
    expect(focalErr).toBeLessThan(0.3);
    // The landmark poses refined on the pixels at the landmark focal (photometric.ts).
    const refined = await refineVideoPhotometric(fit, meshes, models.canonical, { read: (i) => frames[i] });
    const ph = rotationErrors(refined.fit.frames.map((fr) => fr!.pose));
    console.log(`photometric at the landmark focal: ${refined.fallbacks} fallbacks, alignment ${ph.align.toFixed(2)} deg, rotation error max ${ph.max.toFixed(2)} mean ${ph.mean.toFixed(2)} deg, max |pitch| ${ph.axis[0].toFixed(2)} |yaw| ${ph.axis[1].toFixed(2)} |roll| ${ph.axis[2].toFixed(2)} deg`);
    expect(refined.fallbacks).toBe(0);
    // Measured 03:45 UTC session 5: pitch 2.24, yaw 2.47, roll 0.32 (landmark poses: 7.11 / 2.27 / 2.17).
    expect(ph.axis[0]).toBeLessThan(3.5);
    expect(ph.axis[2]).toBeLessThan(1);
    expect(ph.axis[0]).toBeLessThan(lm.axis[0] - 2);
    // What the pipeline writes (worker/prepare/pipeline.ts): the focal searched on the pixels when
    // two reference frames agree on it, else the focal that puts the head 50 cm from the camera;
    // then the landmark fit redone at that focal and refined on the pixels.
    const search = await searchFocalPhotometric(fit, meshes, models.canonical, { read: (i) => frames[i] });
    const focal = search.observed ? search.f : focalAtDistance(fit);
    const focalErrUsed = Math.abs(focal - FOCAL) / FOCAL;
    const refs = search.references.map((r) => `frame ${r.frame}: ${r.observed ? `${r.f.toFixed(1)} (${((r.f / FOCAL - 1) * 100).toFixed(2)}%)` : r.reason}`).join(', ');
    console.log(`photometric focal: ${refs}; observed ${search.observed}${search.reason ? ` (${search.reason})` : ''}, motion ${search.motionDeg.toFixed(1)} deg; written ${focal.toFixed(1)} (${(focalErrUsed * 100).toFixed(2)}%)`);
    expect(search.landmarkF).toBe(fit.intrinsics.f);
    expect(search.motionDeg).toBeGreaterThan(15);
    // Session 14 found the search's answer set by the reference frame's tracked points: +2.9% from
    // frame 0, +23.9% from frame 13, even on this head, which IS the template. Session 15 reads the
    // reference's pixels where its pose puts the template and adjusts that pose with the others'
    // (joint-photometric.ts): frames 0 and 13 then give 671.7 and 675.8 px (+0.9%, +1.5%), so the
    // focal is observed and written (+1.2%), not the distance prior (docs/prepare.md "Focal: the
    // reference's pose adjusted too").
    expect(search.references).toHaveLength(2);
    for (const r of search.references) {
      expect(r.observed).toBe(true);
      expect(Math.abs(r.f - FOCAL) / FOCAL).toBeLessThan(0.05);
    }
    expect(search.observed).toBe(true);
    expect(focalErrUsed).toBeLessThan(0.05);
    const atF = fitVideo(meshes, SIZE, SIZE, models.canonical, { focal });
    const final = await refineVideoPhotometric(atF, meshes, models.canonical, { read: (i) => frames[i] });
    const fin = rotationErrors(final.fit.frames.map((fr) => fr!.pose));
    console.log(`photometric at the written focal: ${final.fallbacks} fallbacks, rotation error max ${fin.max.toFixed(2)} mean ${fin.mean.toFixed(2)} deg, max |pitch| ${fin.axis[0].toFixed(2)} |yaw| ${fin.axis[1].toFixed(2)} |roll| ${fin.axis[2].toFixed(2)} deg`);
    expect(final.fallbacks).toBe(0);
    // Issue 10: rotation within 2 degrees after one global alignment. Measured session 15 at the
    // searched 673.7 px: max pitch / yaw / roll 0.55 / 0.30 / 0.42 deg, mean 0.46 (0.57 / 0.27 /
    // 0.40 at the true focal).
    expect(Math.max(...fin.axis)).toBeLessThan(1.5);
    expect(fin.max).toBeLessThan(1.5);
    expect(fin.mean).toBeLessThan(1);
    // ~10 s on a quiet 2-core machine, 51 s at load average 20: room for a loaded CI run.
  }, 300_000);

  it('meets the focal, rotation and mouth bounds together on one talking, blinking head', async () => {
    // Issue 10's proof on one render: the `canonical-upper` head (the canonical face above the
    // subnasale, so the rigid part the focal search textures is exactly the template; below it the
    // photo's own shape, lips, cheeks and jaw, so the mouth's geometry matches its texture)
    // articulated: lips over a mouth interior and blinking lids on talkingState's trajectory.
    // The `canonical-mouth` head before it (only the lips the photo's) met the focal and rotations
    // but read its mouth 0.90x as wide as its vertices (2.00% / 2.12% on the two trajectories):
    // its cheeks were the canonical face's while their texture is the photo's smile
    // (docs/prepare.md "One render for the focal, the rotations and the mouth").
    const art = articulatedHead(models, 'canonical-upper');
    const tracker = new FaceTracker(models);
    const frames = Array.from({ length: FRAMES }, (_, i) => renderHead(art.frame(talkingState(i)), truePose(i), FOCAL, background));
    const meshes = frames.map((f) => tracker.track(f).mesh?.points ?? null);
    expect(meshes.every((m) => m !== null)).toBe(true);
    const fit = fitVideo(meshes, SIZE, SIZE, models.canonical);
    const search = await searchFocalPhotometric(fit, meshes, models.canonical, { read: (i) => frames[i] });
    console.log(`talking canonical-upper head: ${search.references.map((r) => `frame ${r.frame}: ${r.observed ? `${r.f.toFixed(1)} (${((r.f / FOCAL - 1) * 100).toFixed(2)}%)` : r.reason}`).join(', ')}; observed ${search.observed}${search.reason ? ` (${search.reason})` : ''}; ${search.f.toFixed(1)} (${((search.f / FOCAL - 1) * 100).toFixed(2)}%), rise ${((search.rise ?? NaN) * 100).toFixed(1)}%`);
    // Measured: frames 0 / 23 give 672.3 / 692.4 px (+1.0% / +4.0%), written 682.3 (+2.5%).
    expect(search.observed).toBe(true);
    for (const r of search.references) expect(Math.abs(r.f - FOCAL) / FOCAL).toBeLessThan(0.05);
    expect(Math.abs(search.f - FOCAL) / FOCAL).toBeLessThan(0.05);
    const final = await refineVideoPhotometric(fitVideo(meshes, SIZE, SIZE, models.canonical, { focal: search.f }), meshes, models.canonical, { read: (i) => frames[i] });
    const rot = rotationErrors(final.fit.frames.map((fr) => fr!.pose));
    console.log(`  rotations at the written focal: max |pitch| ${rot.axis[0].toFixed(2)} |yaw| ${rot.axis[1].toFixed(2)} |roll| ${rot.axis[2].toFixed(2)} deg, mean ${rot.mean.toFixed(2)}`);
    // Measured 0.73 / 0.94 / 0.21 deg, mean 0.68 (issue: 2).
    expect(final.fallbacks).toBe(0);
    expect(rot.max).toBeLessThan(1.5);
    // The mouth on the same frames, and on a second trajectory no choice here was made on.
    const heads = (phase: number) => Array.from({ length: FRAMES }, (_, i) => ({ ...art.head, vertices: art.at(talkingState(i, phase)) }));
    const mouth = mouthError(heads(0), meshes, (i) => truePose(i));
    const tracker2 = new FaceTracker(models);
    const meshes2 = Array.from({ length: FRAMES }, (_, i) => tracker2.track(renderHead(art.frame(talkingState(i, 2.5)), truePose(i, 2.5, 0.7), FOCAL, background)).mesh?.points ?? null);
    expect(meshes2.every((m) => m !== null)).toBe(true);
    const mouth2 = mouthError(heads(2.5), meshes2, (i) => truePose(i, 2.5, 0.7));
    const pc = (x: number) => `${(x * 100).toFixed(2)}%`;
    console.log(`  mouth landmarks: mean ${pc(mouth.mean)}, worst ${pc(mouth.worst)} (second trajectory ${pc(mouth2.mean)}, ${pc(mouth2.worst)}) of the face width; read ${mouth.height.toFixed(3)}x as tall`);
    // Measured 1.79% / 5.66% and 1.80% / 4.90% (issue: 2%).
    expect(mouth.mean).toBeLessThan(0.02);
    expect(mouth2.mean).toBeLessThan(0.02);
    expect(Math.max(mouth.worst, mouth2.worst)).toBeLessThan(0.065);
  }, 300_000);

  it('places the mouth landmarks within 2% of the face width on a head whose mouth matches its texture, still and opening', () => {
    // Issue 10: mouth landmarks within 2% of the face width. The same photo and texture map on the
    // mesh model's own 3-D reading of the photo (tests/helpers/face-video.ts meshInTemplate), whose
    // mouth is open as the texture shows; the test's trajectory, then a second one no choice here
    // was made on (another phase, 0.7x the yaw and pitch).
    const shaped = astronautHead(models, { shape: 'photo' });
    const lower = lowerLipWeights(models.canonical);
    // The third run opens the mouth: the lower lip drops 0 -> 0.8 cm -> 0 every 8 frames (the
    // inner lips 1.22 -> 2.02 cm apart; the photo's teeth stretch with it).
    const runs: { phase: number; amp: number; open: number }[] = [
      { phase: 0, amp: 1, open: 0 },
      { phase: 2.5, amp: 0.7, open: 0 },
      { phase: 0, amp: 1, open: 0.8 },
    ];
    const openings: { truth: number[]; tracked: number[] }[] = [];
    for (const { phase, amp, open } of runs) {
      const drop = (i: number) => (open * (1 - Math.cos((2 * Math.PI * i) / 8))) / 2;
      const vertices = (i: number) => Float32Array.from(shaped.vertices, (x, k) => (k % 3 === 1 ? x - drop(i) * lower[(k - 1) / 3] : x));
      const heads = Array.from({ length: FRAMES }, (_, i) => ({ ...shaped, vertices: vertices(i) }));
      const tracker = new FaceTracker(models);
      const meshes = heads.map((h, i) => tracker.track(renderHead(h, truePose(i, phase, amp), FOCAL, background)).mesh?.points ?? null);
      expect(meshes.every((m) => m !== null)).toBe(true);
      const mouth = mouthError(heads, meshes, (i) => truePose(i, phase, amp));
      console.log(`mouth landmarks, photo-shaped head, phase ${phase}, amplitude ${amp}, opening ${open} cm: mean ${(mouth.mean * 100).toFixed(2)}%, worst ${(mouth.worst * 100).toFixed(2)}% of the face width; mouth read ${mouth.height.toFixed(3)}x as tall as its vertices`);
      // Measured: 1.29% / 3.61%, 1.105x (the test's trajectory); 0.88% / 2.18%, 1.067x (the
      // second); 1.43% / 4.90%, 1.110x (opening).
      expect(mouth.mean).toBeLessThan(0.02);
      expect(mouth.worst).toBeLessThan(0.06);
      expect(mouth.height).toBeLessThan(1.2);
      openings.push(mouth.opening);
    }
    // The opening itself, with the head's motion taken out: the opening run minus the still run on
    // the same trajectory, tracked against true, frame by frame.
    const [still, , opening] = openings;
    const dt = opening.truth.map((x, i) => x - still.truth[i]);
    const dk = opening.tracked.map((x, i) => x - still.tracked[i]);
    const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const [mt, mk] = [avg(dt), avg(dk)];
    const cov = avg(dt.map((x, i) => (x - mt) * (dk[i] - mk)));
    const r = cov / Math.sqrt(avg(dt.map((x) => (x - mt) ** 2)) * avg(dk.map((x) => (x - mk) ** 2)));
    const slope = cov / avg(dt.map((x) => (x - mt) ** 2));
    console.log(`mouth opening (inner lips), opening run minus still run: true change up to ${(Math.max(...dt) * 100).toFixed(1)}% of the face width; tracked follows it at r ${r.toFixed(3)}, slope ${slope.toFixed(2)}`);
    expect(r).toBeGreaterThan(0.9);
    expect(slope).toBeGreaterThan(0.7);
    expect(slope).toBeLessThan(1.5);
  }, 120_000);
  it('follows a mouth that closes over its teeth and opens wide, and eyes that blink, through the pipeline\'s landmarks and eye_ratio', () => {
    // Issue 10: "a mouth and eyes that move with known landmarks". The photo-shaped head with its
    // lips and upper lids as surfaces that slide over a mouth interior (the photo's teeth, a dark
    // cavity beyond) and the eyes (tests/helpers/face-video.ts articulatedHead): closed on about one
    // frame in eight, up to 2 cm open, a blink every 12 frames; two trajectories.
    const art = articulatedHead(models);
    const corr = (a: number[], b: number[]) => {
      const avg = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
      const [ma, mb] = [avg(a), avg(b)];
      const cov = avg(a.map((x, i) => (x - ma) * (b[i] - mb)));
      return { r: cov / Math.sqrt(avg(a.map((x) => (x - ma) ** 2)) * avg(b.map((x) => (x - mb) ** 2))), slope: cov / avg(a.map((x) => (x - ma) ** 2)) };
    };
    for (const { phase, amp } of [{ phase: 0, amp: 1 }, { phase: 2.5, amp: 0.7 }]) {
      const states = Array.from({ length: FRAMES }, (_, i) => talkingState(i, phase));
      const heads = states.map((st) => art.frame(st));
      const pose = (i: number) => truePose(i, phase, amp);
      const tracker = new FaceTracker(models);
      const tracks = heads.map((h, i) => tracker.track(renderHead(h, pose(i), FOCAL, background)));
      const meshes = tracks.map((r) => r.mesh?.points ?? null);
      const lids = tracks.map((r) => r.lids);
      expect(meshes.every((m) => m !== null)).toBe(true);
      expect(lids.every((l) => l !== null)).toBe(true);
      const mouth = mouthError(heads, meshes, pose);
      const open = corr(mouth.opening.truth, mouth.opening.tracked);
      const closed = mouth.opening.tracked.filter((_, i) => states[i].mouth === 0);
      const wide = mouth.opening.tracked.filter((_, i) => states[i].mouth >= art.photoOpening);
      const avg = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
      console.log(`articulated head, phase ${phase}, amplitude ${amp}: mouth landmarks mean ${(mouth.mean * 100).toFixed(2)}%, worst ${(mouth.worst * 100).toFixed(2)}% of the face width, read ${mouth.height.toFixed(3)}x as tall; inner opening r ${open.r.toFixed(3)}, slope ${open.slope.toFixed(2)}; tracked opening ${(avg(closed) * 100).toFixed(1)}% on the ${closed.length} closed frames, ${(avg(wide) * 100).toFixed(1)}% on the ${wide.length} open at least as the photo`);
      // Measured: 1.61% / 5.13%, 1.109x, r 0.956, slope 0.87, closed 2.0% vs open 14.1% (the test's
      // trajectory); 1.57% / 4.34%, 1.042x, r 0.981, slope 0.77, closed 1.3% vs open 12.1% (the second).
      expect(mouth.mean).toBeLessThan(0.02);
      expect(mouth.worst).toBeLessThan(0.065);
      expect(mouth.height).toBeLessThan(1.2);
      expect(open.r).toBeGreaterThan(0.9);
      expect(open.slope).toBeGreaterThan(0.6);
      expect(open.slope).toBeLessThan(1.4);
      expect(closed.length).toBeGreaterThanOrEqual(3);
      expect(avg(closed)).toBeLessThan(0.3 * avg(wide));
      // The eyes: prepare's eye_ratio (fit-video.ts with the tracker's lids: the eye aspect ratio of
      // the attention model's eyelid points) against the same ratio of the true projections.
      const fit = fitVideo(meshes, SIZE, SIZE, models.canonical, { lids });
      const tracked = fit.frames.map((f) => f!.eyeRatio);
      // Without lids (the attention model not loaded) the ratio is the face mesh's, as before.
      const meshOnly = fitVideo(meshes, SIZE, SIZE, models.canonical, { focal: fit.intrinsics.f }).frames.map((f) => f!.eyeRatio);
      meshOnly.forEach((x, i) => expect(x).toBe(eyeRatio(meshToIbug68(meshes[i]!, 2))));
      const truth = heads.map((h, i) => {
        const { R, t } = pose(i);
        const V = h.vertices;
        const pts = new Float32Array(468 * 3);
        for (let v = 0; v < 468; v++) {
          const p = [0, 1, 2].map((r) => R[r * 3] * V[v * 3] + R[r * 3 + 1] * V[v * 3 + 1] + R[r * 3 + 2] * V[v * 3 + 2] + t[r]);
          pts[v * 3] = (FOCAL * p[0]) / p[2] + SIZE / 2;
          pts[v * 3 + 1] = (FOCAL * p[1]) / p[2] + SIZE / 2;
        }
        return eyeRatio(meshToIbug68(pts, 2));
      });
      // A blink as a reader of eye_ratio sees one: the shut frames against the video's open level
      // (the median of the frames whose lids do not move).
      const blinkOf = (ratios: number[]) => {
        const still = ratios.filter((_, i) => states[i].blink === 0);
        const openLevel = [...still].sort((a, b) => a - b)[Math.floor(still.length / 2)];
        return { ...corr(truth, ratios), openLevel, still, shut: ratios.filter((_, i) => states[i].blink === 1) };
      };
      const eye = blinkOf(tracked);
      const old = blinkOf(meshOnly);
      for (const [name, e] of [['attention lids', eye], ['face-mesh lids', old]] as const)
        console.log(`  eye_ratio from the ${name}: r ${e.r.toFixed(3)}, slope ${e.slope.toFixed(2)}; true ${Math.max(...truth).toFixed(3)} open, ${Math.min(...truth).toFixed(3)} shut; tracked open level ${e.openLevel.toFixed(3)}, shut frames ${e.shut.map((x) => `${x.toFixed(3)} (${((x / e.openLevel) * 100).toFixed(0)}%)`).join(' ')}, lowest open frame ${Math.min(...e.still).toFixed(3)}`);
      // Measured (session 12): attention lids r 0.988 / 0.992, slope 0.84 / 0.81, shut frames at
      // 10-13% / 15-21% of open; the face mesh's lids (what prepare wrote until then) r 0.985 /
      // 0.955, slope 0.53 / 0.34, shut at 39-47% / 61-64%: the face mesh puts a shut eye's upper lid
      // above the lashes, the attention model's lids follow it (docs/prepare.md "Eye ratio from
      // the attention model"). The bounds below fail on the face mesh's lids.
      expect(eye.r).toBeGreaterThan(0.9);
      expect(eye.slope).toBeGreaterThan(0.7);
      expect(eye.slope).toBeLessThan(1.3);
      expect(eye.shut.length).toBe(2);
      for (const x of eye.shut) expect(x).toBeLessThan(0.35 * eye.openLevel);
      for (const x of eye.still) expect(x).toBeGreaterThan(0.8 * eye.openLevel);
      // What prepare writes (face/eye-steady.ts): the open eye at one level through this
      // trajectory's 22-degree turns and 9-degree nods, which move the per-frame reading, and each
      // blink's frames below it, the shut ones still under a third of it.
      const steady = steadyEyeRatio(tracked);
      const spread = (v: number[]) => (Math.max(...v) - Math.min(...v)) / steady.open;
      console.log(`  steady eye_ratio: open ${steady.open.toFixed(3)}, noise ${steady.noise.toFixed(4)}, ${steady.blinks} blinks over ${steady.blinkFrames} frames; open frames' spread ${(spread(eye.still) * 100).toFixed(1)}% per frame -> ${(spread(Array.from(steady.values).filter((_, i) => states[i].blink === 0)) * 100).toFixed(1)}%; blink frames ${Array.from(steady.values).map((v, i) => (states[i].blink > 0 ? `${states[i].blink}:${(v / steady.open).toFixed(2)}` : '')).filter(Boolean).join(' ')}`);
      // (An open frame next to a blink that reads over one noise spread low joins it as its
      // reopening: measured 0.96 of open on the second trajectory.)
      const besideBlink = (i: number) => (states[i - 1]?.blink ?? 0) > 0 || (states[i + 1]?.blink ?? 0) > 0;
      states.forEach((st, i) => {
        if (st.blink > 0) expect(steady.values[i]).toBeLessThan((st.blink === 1 ? 0.35 : 0.95) * steady.open);
        else if (besideBlink(i)) expect(steady.values[i]).toBeGreaterThan(0.85 * steady.open);
        else expect(steady.values[i]).toBe(Math.fround(steady.open));
      });
    }
  }, 180_000);
});
