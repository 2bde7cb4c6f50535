/**
 * The camera/pose solver alone, against the bounds (rotation within 2 degrees after
 * one global alignment, focal within 5%), on landmarks with exactly known geometry: a face
 * whose shape differs from MediaPipe's canonical one (every point moved by up to 6 mm, as a
 * real person's does) seen through a known camera, with +-1 px landmark noise. The rendered
 * astronaut video (face-video-fit.test.ts) misses these bounds because of the face-mesh
 * model's own landmark error on that render (it under-reports upward pitch; with the true
 * focal given, pitch is still ~6.6 degrees off), not because of this solver — this test keeps
 * the two apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalFace } from '../../worker/face/canonical.ts';
import { fitVideo } from '../../worker/face/fit-video.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { loadCanonicalFace } from '../../worker/face/canonical.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;
const SIZE = 512;
const FOCAL = 1.3 * SIZE;
const FRAMES = 60;

function truePose(i: number): HeadPose {
  const s = i / FRAMES;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, 22 * Math.sin(2 * Math.PI * s) * DEG, 0]), mat3Mul(rodrigues([9 * Math.sin(4 * Math.PI * s + 1) * DEG, 0, 0]), rodrigues([0, 0, 6 * Math.sin(2 * Math.PI * s + 2) * DEG]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}

/** Deterministic uniform numbers in [-0.5, 0.5). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

function observe(face: Float32Array, noisePx: number, rnd: () => number): Float32Array[] {
  return Array.from({ length: FRAMES }, (_, i) => {
    const { R, t } = truePose(i);
    const out = new Float32Array(468 * 3);
    for (let v = 0; v < 468; v++) {
      const p = [0, 1, 2].map((r) => R[r * 3] * face[v * 3] + R[r * 3 + 1] * face[v * 3 + 1] + R[r * 3 + 2] * face[v * 3 + 2] + t[r]);
      out[v * 3] = (FOCAL * p[0]) / p[2] + SIZE / 2 + 2 * noisePx * rnd();
      out[v * 3 + 1] = (FOCAL * p[1]) / p[2] + SIZE / 2 + 2 * noisePx * rnd();
      // The mesh model's z: depth in pixel units, relative (only its differences are used).
      out[v * 3 + 2] = (p[2] * FOCAL) / t[2];
    }
    return out;
  });
}

describe('focal and pose solver on landmarks of known geometry', () => {
  let canonical: CanonicalFace;
  beforeAll(async () => {
    canonical = await loadCanonicalFace(nodeFaceModelSource);
  });

  for (const [shapeCm, noisePx] of [
    [0, 0],
    [0.6, 1],
  ] as const) {
    it(`meets the issue's bounds with a face ${shapeCm} cm off the canonical shape and ${noisePx} px noise`, () => {
      const rnd = lcg(7);
      const face = Float32Array.from(canonical.vertices, (v) => v + 2 * shapeCm * rnd());
      const fit = fitVideo(observe(face, noisePx, rnd), SIZE, SIZE, canonical);
      const focalErr = Math.abs(fit.intrinsics.f - FOCAL) / FOCAL;
      const est = fit.frames.map((f) => f!.pose.R);
      const g = [0, 0, 0];
      est.forEach((R, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), R)).forEach((v, d) => (g[d] += v / FRAMES)));
      const G = rodrigues(g);
      // The held-out end: the last 1/11 of the frames, as the reference's validation split.
      const tail = est.slice(FRAMES - Math.ceil(FRAMES / 11));
      const errs = tail.map((R, j) => rotationAngle(mat3Mul(R, mat3T(G)), truePose(FRAMES - tail.length + j).R) / DEG);
      const all = est.map((R, i) => rotationAngle(mat3Mul(R, mat3T(G)), truePose(i).R) / DEG);
      console.log(`shape ${shapeCm} cm, noise ${noisePx} px: focal ${(focalErr * 100).toFixed(2)}%, rotation error held-out max ${Math.max(...errs).toFixed(2)} deg, all frames max ${Math.max(...all).toFixed(2)} deg`);
      expect(focalErr).toBeLessThan(noisePx === 0 && shapeCm === 0 ? 0.005 : 0.05);
      expect(Math.max(...all)).toBeLessThan(2);
      expect(Math.max(...errs)).toBeLessThan(2);
    });
  }
});
