/**
 * How deep is this face, relative to the canonical face (docs/prepare.md, issue 10)? Two measures
 * of the depth relief (the z scale of the face about its centroid, its x/y held at 1):
 *  - truth: the synthetic head's own rigid 68 landmarks in head coordinates
 *    (ground_truth/landmarks_3d_head.npy) against the canonical face's;
 *  - mesh: what the face-mesh model's own per-frame z says (the tracked meshes, cache as
 *    mesh-cache.ts), against the canonical face, median over frames.
 * Both by an anisotropic Procrustes fit (rotation, one scale, and a z stretch of the canonical face).
 * Measured (session 10): truth 0.534 / 0.566 (seeds 1 / 2), the mesh model's z 0.989 / 0.963: the
 * mesh model draws this head about as deep as the canonical face, so its z says nothing of the
 * subject's relief here; the pipeline measures the relief from the motion instead (searchRelief).
 * Run: npx tsx bench/pose/relief-lab.ts <synth subject dir> <mesh cache>
 */
import { readFileSync } from 'node:fs';
import { readNpy } from '../../worker/io/npy.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { IBUG68_FROM_MESH } from '../../worker/face/ibug68.ts';
import { meshRelief, reliefFit } from './relief-fit.ts';
import { trackedMeshes } from './mesh-cache.ts';

if (process.env.SHAPE) {
  // The astronaut test head's shape (tests/helpers/face-video.ts) against the canonical face.
  const { astronautHead } = await import('../../tests/helpers/face-video.ts');
  const m = await loadFaceModels(nodeFaceModelSource);
  const head = astronautHead(m, { shape: process.env.SHAPE as 'photo' }).vertices;
  const idx = Array.from({ length: 468 }, (_, i) => i).filter((i) => m.canonical.weights[i] > 0);
  const r = reliefFit(idx.map((i) => [0, 1, 2].map((d) => m.canonical.vertices[i * 3 + d])), idx.map((i) => [0, 1, 2].map((d) => head[i * 3 + d])), idx.map((i) => m.canonical.weights[i]));
  console.log(`astronaut head shape ${process.env.SHAPE}: relief ${r.relief.toFixed(3)} (Procrustes points), residual ${r.rms.toFixed(3)} cm`);
  process.exit(0);
}
const [truthDir, cache] = process.argv.slice(2);
const models = await loadFaceModels(nodeFaceModelSource);
const V = Float64Array.from(models.canonical.vertices);
const W = models.canonical.weights;
// Rigid 68: nose bridge and tip, eye corners.
const RIGID68 = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45];
const lm3 = readNpy(new Uint8Array(readFileSync(`${truthDir}/ground_truth/landmarks_3d_head.npy`)));
const L = lm3.data as Float32Array;
const canon = RIGID68.map((q) => [0, 1, 2].map((d) => V[IBUG68_FROM_MESH[q] * 3 + d]));
const truth = RIGID68.map((q) => [0, 1, 2].map((d) => L[q * 3 + d]));
const t = reliefFit(canon, truth, RIGID68.map(() => 1));
console.log(`truth (rigid 68, frame 0): relief ${t.relief.toFixed(3)} residual ${t.rms.toFixed(4)} (truth units) scale ${t.scale.toFixed(4)}`);
// The canonical face's own 68 as a check of the fit (relief 1, residual 0).
const self = reliefFit(canon, canon.map((p) => [p[0] * 2, p[1] * 2, p[2] * 2]), RIGID68.map(() => 1));
console.log(`self-check: relief ${self.relief.toFixed(3)} residual ${self.rms.toExponential(1)}`);
const T = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')).frames);
const { meshes } = trackedMeshes(truthDir, cache, T.length, models);
const m = meshRelief(meshes, V, W);
console.log(`mesh model's z: relief median ${m.relief.toFixed(3)} (quartiles ${m.q1.toFixed(3)} .. ${m.q3.toFixed(3)}, ${m.frames} frames)`);
