/**
 * The pose and focal solver on exactly known geometry: MediaPipe's canonical face projected by
 * a known camera at known head poses, with pixel noise. The focal comes back within 5%, every
 * rotation within 1 degree, the transforms follow the reference's convention (camera-to-head,
 * OpenGL axes), and landmarks lifted into head space keep an expression and lose the pose.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCanonicalFace, type CanonicalFace } from '../../worker/face/canonical.ts';
import { mat3Mul, rodrigues, rotationAngle, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { headTransform, liftToHead, poseFromTransform, solveFocal, solvePoses, type FrameObservation, type HeadPose, type PoseTemplate } from '../../worker/face/pose-solver.ts';
import { mulberry32 } from '../../worker/util/random.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1); // template y-up/z-out -> camera y-down/z-forward
const AXES = { rightEye: 33, leftEye: 263, forehead: 10, chin: 152 };

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function project(pts: Float32Array | Float64Array, pose: HeadPose, f: number, c: number, noise: number, rand: () => number): { obs: Float64Array; mesh3: Float64Array } {
  const n = pts.length / 3;
  const obs = new Float64Array(n * 2);
  const mesh3 = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const p = [0, 1, 2].map((r) => pose.R[r * 3] * pts[i * 3] + pose.R[r * 3 + 1] * pts[i * 3 + 1] + pose.R[r * 3 + 2] * pts[i * 3 + 2] + pose.t[r]);
    obs[i * 2] = (f * p[0]) / p[2] + c + noise * gaussian(rand);
    obs[i * 2 + 1] = (f * p[1]) / p[2] + c + noise * gaussian(rand);
    mesh3[i * 3] = obs[i * 2];
    mesh3[i * 3 + 1] = obs[i * 2 + 1];
    mesh3[i * 3 + 2] = ((p[2] - pose.t[2]) * f) / pose.t[2];
  }
  return { obs, mesh3 };
}

function randomPose(rand: () => number): HeadPose {
  const deg = Math.PI / 180;
  const rot = rodrigues([(rand() - 0.5) * 24 * deg, (rand() - 0.5) * 50 * deg, (rand() - 0.5) * 16 * deg]);
  return { R: mat3Mul(FLIP, rot), t: [(rand() - 0.5) * 6, (rand() - 0.5) * 6, 45 + rand() * 15] };
}

describe('pose and focal solver', () => {
  let canon: CanonicalFace;
  let tpl: PoseTemplate;
  beforeAll(async () => {
    canon = await loadCanonicalFace(nodeFaceModelSource);
    tpl = { points: Float64Array.from(canon.vertices), weights: Float64Array.from(canon.weights, (w) => Math.max(w, 0.02) * (w > 0 ? 1 : 0)) };
  });

  it('recovers the focal within 5% and every rotation within 1 degree', () => {
    const rand = mulberry32(7);
    const f = 1.4 * 512;
    const truth: HeadPose[] = [];
    const frames: FrameObservation[] = [];
    for (let i = 0; i < 30; i++) {
      const pose = randomPose(rand);
      truth.push(pose);
      frames.push(project(canon.vertices, pose, f, 256, 0.7, rand));
    }
    // The solver sees only the weighted (stable) points' observations and the whole mesh.
    const sub = frames.map((fr) => ({ obs: fr.obs, mesh3: fr.mesh3 }));
    const est = solveFocal(tpl, sub, 256, 256, AXES, 0.4 * 512, 10 * 512);
    expect(Math.abs(est.f - f) / f).toBeLessThan(0.05);
    const { poses } = solvePoses(tpl, sub, { f: est.f, cx: 256, cy: 256 }, AXES);
    const worst = Math.max(...poses.map((p, i) => rotationAngle(p.R, truth[i].R)));
    expect((worst * 180) / Math.PI).toBeLessThan(1);
  });

  it('writes camera-to-head transforms in the reference convention', () => {
    // A frontal face 50 cm in front of the camera: identity rotation, camera on +z at 0.5.
    const frontal: HeadPose = { R: FLIP, t: [0, 0, 50] };
    const m = headTransform(frontal);
    const flat = m.flat();
    [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.5, 0, 0, 0, 1].forEach((v, i) => expect(flat[i]).toBeCloseTo(v, 9));
    // Head turned to its left (yaw +): the camera, seen from the head, sits to the head's right (-x).
    const turned: HeadPose = { R: mat3Mul(FLIP, rodrigues([0, 0.3, 0])), t: [0, 0, 50] };
    expect(headTransform(turned)[0][3]).toBeLessThan(0);
    const back = poseFromTransform(headTransform(turned));
    expect(rotationAngle(back.R, turned.R)).toBeLessThan(1e-9);
    back.t.forEach((v, i) => expect(v).toBeCloseTo(turned.t[i], 9));
  });

  it('lifts 2-D landmarks into head space: pose removed, expression kept', () => {
    const rand = mulberry32(3);
    const pose = randomPose(rand);
    // Open the jaw: every point below the mouth moves 1 cm down in head space.
    const moved = Float32Array.from(canon.vertices);
    for (let i = 0; i < 468; i++) if (moved[i * 3 + 1] < -4.5) moved[i * 3 + 1] -= 1;
    const { obs } = project(moved, pose, 700, 256, 0, rand);
    const head = liftToHead(obs, Float64Array.from(canon.vertices), pose, { f: 700, cx: 256, cy: 256 });
    let err = 0;
    for (let i = 0; i < 468; i++) err = Math.max(err, Math.hypot(head[i * 3] - moved[i * 3], head[i * 3 + 1] - moved[i * 3 + 1]));
    // Depth is the template's, so a moved point is off by the parallax of a 1 cm shift only.
    expect(err).toBeLessThan(0.35);
    const chin = 152;
    expect(head[chin * 3 + 1] - canon.vertices[chin * 3 + 1]).toBeLessThan(-0.7);
  });
});
