/** Experiment (not shipped): landmark vs photometric poses against a synth subject's true transforms; see docs/prepare.md.
 * Run: npx tsx bench/pose/synth-diag.ts <synth subject dir> <frames> <size> [focal]  (MESHZ=1: texture depth from the mesh model's z) */
import { readFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { FaceTracker, loadFaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { fitVideo } from '../../worker/face/fit-video.ts';
import { headTransform } from '../../worker/face/pose-solver.ts';
import { blur, buildTexture, levelRadii, referenceValues, refinePosePhotometric, toGray } from '../../worker/face/photometric.ts';
import { mat3Mul, mat3T, rodrigues, rotationVector } from '../../worker/face/linalg.ts';
import { smoothPoses } from '../../worker/model/poses.ts';
const truthDir = process.argv[2]; const N = Number(process.argv[3] ?? 550); const S = Number(process.argv[4] ?? 192); const F = process.argv[5] ? Number(process.argv[5]) : undefined;
const models = await loadFaceModels(nodeFaceModelSource);
const tr = new FaceTracker(models);
const frames: ReturnType<typeof decodeImage>[] = []; const meshes: Float32Array[] = [];
for (let i = 0; i < N; i++) { const im = decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`)); frames.push(im); meshes.push(tr.track(im).mesh!.points); }
const T = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.transform_matrix as number[][]));
const R = (m: number[][]) => Float64Array.of(m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]);
function report(name: string, P: number[][][]) {
  const n = T.length; const g = [0, 0, 0];
  T.forEach((t, i) => rotationVector(mat3Mul(mat3T(R(t)), R(P[i]))).forEach((v, d) => (g[d] += v / n)));
  const G = rodrigues(g);
  const err = T.map((t, i) => rotationVector(mat3Mul(mat3T(R(t)), mat3Mul(R(P[i]), mat3T(G)))).map((v) => (v * 180) / Math.PI));
  console.log(name, 'max', [0, 1, 2].map((d) => Math.max(...err.map((e) => Math.abs(e[d]))).toFixed(2)).join(' '), 'mean', [0, 1, 2].map((d) => (err.reduce((s, e) => s + Math.abs(e[d]), 0) / n).toFixed(2)).join(' '));
}
const smooth = (tf: number[][][]) => { const raw = new Float32Array(tf.length * 16); tf.forEach((m, j) => raw.set(m.flat(), j * 16)); const s = smoothPoses(raw, tf.length, 2); return tf.map((_, j) => [0, 1, 2, 3].map((r) => Array.from(s.subarray(j * 16 + r * 4, j * 16 + r * 4 + 4)))); };
const fit = fitVideo(meshes, S, S, models.canonical, F ? { focal: F } : {});
const k = fit.intrinsics;
report(`landmarks f=${k.f.toFixed(0)} smoothed`, fit.frames.map((f) => f!.transform));
report(`landmarks raw`, fit.frames.map((f) => headTransform(f!.pose)));
const V = models.canonical.vertices;
const rigid = (v: number) => V[v * 3 + 1] > V[2 * 3 + 1];
const ref = Math.floor(N / 2);
const radii = levelRadii(S);
const g0 = toGray(frames[ref]);
const refLevels = radii.map((r) => blur(g0, r));
const m2 = new Float64Array(936); for (let q = 0; q < 468; q++) { m2[q * 2] = meshes[ref][q * 3]; m2[q * 2 + 1] = meshes[ref][q * 3 + 1]; }
let tplPts = Float64Array.from(V);
if (process.env.MESHZ) {
  const { R: PR, t: pt } = fit.frames[ref]!.pose;
  const depthOf = (q: number) => PR[6] * V[q * 3] + PR[7] * V[q * 3 + 1] + PR[8] * V[q * 3 + 2] + pt[2];
  let D = 0, zm = 0; for (let q = 0; q < 468; q++) { D += depthOf(q) / 468; zm += meshes[ref][q * 3 + 2] / 468; }
  const zs = Number(process.env.MESHZ);
  tplPts = new Float64Array(468 * 3);
  for (let q = 0; q < 468; q++) {
    const d = D + zs * (meshes[ref][q * 3 + 2] - zm) * D / k.f;
    const cam = [(m2[q * 2] - k.cx) * d / k.f - pt[0], (m2[q * 2 + 1] - k.cy) * d / k.f - pt[1], d - pt[2]];
    for (let r = 0; r < 3; r++) tplPts[q * 3 + r] = PR[r] * cam[0] + PR[3 + r] * cam[1] + PR[6 + r] * cam[2];
  }
}
const tex = buildTexture(m2, tplPts, models.canonical.triangles, rigid, fit.frames[ref]!.pose, k);
const refValues = referenceValues(tex, refLevels);
console.log('samples', tex.uv.length / 2, 'radii', radii);
const t0 = performance.now();
const refined = fit.frames.map((f, i) => { const g = toGray(frames[i]); const r = refinePosePhotometric(tex, refValues, radii.map((rr) => blur(g, rr)), k, f!.pose); if (i % 100 === 0) console.log(i, 'rms', r.rms.toFixed(2), 'used', r.used); return headTransform(r.pose); });
console.log('ms/frame', ((performance.now() - t0) / N).toFixed(1));
report('photometric raw', refined);
report('photometric smoothed', smooth(refined));
