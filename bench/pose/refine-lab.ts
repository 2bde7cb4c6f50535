/**
 * Pose refinement experiments on a synthetic subject (docs/prepare.md, issue 10): tracks the
 * frames once (meshes cached in <cache>, fit-lab.ts's format), fits at the given focal, refines
 * photometrically as the pipeline does, and reports each variant's camera error in pixels
 * (pose-err.ts) and its rotation error after one global alignment.
 * Run: npx tsx bench/pose/refine-lab.ts <synth subject dir> <cache file> <focal>  (SMOOTH=0,1,2 radii to compare)
 */
import { readFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { trackedMeshes } from './mesh-cache.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { fitVideo, refineVideoPhotometric, searchRelief } from '../../worker/face/fit-video.ts';
import { headTransform, poseFromTransform, type HeadPose } from '../../worker/face/pose-solver.ts';
import { smoothPoses } from '../../worker/model/poses.ts';
import { mat3Mul, mat3T, rodrigues, rotationVector } from '../../worker/face/linalg.ts';
import { poseError } from './pose-err.ts';
import { landmarkResidual } from '../../worker/face/relief.ts';

const [truthDir, cache, focalArg] = process.argv.slice(2);
const T = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.transform_matrix as number[][]));
const N = T.length;
const nVal = JSON.parse(readFileSync(`${truthDir}/transforms_val.json`, 'utf8')).frames.length;
const models = await loadFaceModels(nodeFaceModelSource);
const { side: S, meshes } = trackedMeshes(truthDir, cache, N, models);
const ids = Array.from({ length: N }, (_, i) => i);
const f = Number(focalArg);
const R = (m: number[][]) => Float64Array.of(m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]);
function rotErr(name: string, P: number[][][]) {
  const g = [0, 0, 0];
  T.forEach((t, i) => rotationVector(mat3Mul(R(P[i]), mat3T(R(t)))).forEach((v, d) => (g[d] += v / N)));
  const G = rodrigues(g);
  const err = T.map((t, i) => rotationVector(mat3Mul(mat3T(G), mat3Mul(R(P[i]), mat3T(R(t))))).map((v) => (v * 180) / Math.PI));
  if (process.env.EXPR) {
    // What the per-axis error follows: correlation with the truth's motion and expression (meta.json).
    const motion = JSON.parse(readFileSync(`${truthDir}/ground_truth/meta.json`, 'utf8')).motion as Record<string, number>[];
    for (const d of [0, 1, 2]) {
      const me = err.reduce((s2, e) => s2 + e[d], 0) / N;
      const corr = ['open', 'smile', 'brows', 'eyeRight', 'yaw', 'pitch', 'roll', 'tx', 'ty', 'tz'].map((k) => {
        const xs = motion.map((m) => m[k]);
        const mx = xs.reduce((a, b) => a + b, 0) / N;
        let c = 0, v = 0, ve = 0;
        xs.forEach((x, i) => { c += (x - mx) * (err[i][d] - me); v += (x - mx) ** 2; ve += (err[i][d] - me) ** 2; });
        return `${k} ${(c / Math.sqrt(v * ve)).toFixed(2)}`;
      });
      const lag1 = err.slice(1).reduce((s2, e, i) => s2 + (e[d] - me) * (err[i][d] - me), 0) / err.reduce((s2, e) => s2 + (e[d] - me) ** 2, 0);
      console.log(`  ${name} axis ${d} error: lag-1 autocorr ${lag1.toFixed(2)}; corr with`, corr.join(', '));
    }
  }
  console.log(`${name.padEnd(30)} rotation error mean ${[0, 1, 2].map((d) => (err.reduce((s, e) => s + Math.abs(e[d]), 0) / N).toFixed(3)).join('/')} max ${[0, 1, 2].map((d) => Math.max(...err.map((e) => Math.abs(e[d]))).toFixed(2)).join('/')} deg`);
}
function show(name: string, poses: HeadPose[]) {
  rotErr(name, poses.map(headTransform));
  poseError(truthDir, ids, poses, f, S / 2, S / 2, nVal, `${name.padEnd(30)} `);
}
function karcherMean(rs: Float64Array[]): Float64Array {
  let m = rs[0];
  for (let it = 0; it < 20; it++) {
    const w = [0, 0, 0];
    for (const r of rs) rotationVector(mat3Mul(mat3T(m), r)).forEach((v, d) => (w[d] += v / rs.length));
    m = mat3Mul(m, rodrigues(w));
  }
  return m;
}
const radii = (process.env.SMOOTH ?? '0,2').split(',').map(Number);
function variants(name: string, raw: HeadPose[]) {
  for (const r of radii) {
    const sm = r === 0 ? raw : (() => {
      const flat = smoothPoses(Float32Array.from(raw.flatMap((p) => headTransform(p).flat())), N, r);
      return Array.from({ length: N }, (_, j) => poseFromTransform([0, 1, 2, 3].map((q) => Array.from(flat.subarray(j * 16 + q * 4, j * 16 + q * 4 + 4)))));
    })();
    show(`${name} r=${r}`, sm);
  }
}
const fit = fitVideo(meshes, S, S, models.canonical, { focal: f });
variants('landmarks', fit.frames.map((fr) => fr!.pose));
const t0 = performance.now();
const { fit: ref, fallbacks } = await refineVideoPhotometric(fit, meshes, models.canonical, { read: (i) => decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`)) });
console.log(`photometric: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${fallbacks} fallbacks`);
variants('photometric', ref.frames.map((fr) => fr!.pose));

if (process.env.RELIEF_SEARCH) {
  // The pipeline's relief search (fit-video.ts searchRelief), then every frame refined at its relief.
  const read = (i: number) => decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`));
  const t1 = performance.now();
  const search = await searchRelief(fit, meshes, models.canonical, { read });
  console.log(`relief search: ${((performance.now() - t1) / 1000).toFixed(1)} s, relief ${search.relief} (${search.observed ? 'observed' : search.reason}); landmark residual ${search.curve.map((c) => `${c.relief}: ${c.residual.toFixed(4)}`).join(', ')}`);
  const { fit: rel } = await refineVideoPhotometric(fit, meshes, models.canonical, { read, relief: search.relief });
  variants(`photometric relief ${search.relief}`, rel.frames.map((fr) => fr!.pose));
}

if (process.env.RELIEF) {
  // The texture lifted onto the template with its depth relief scaled (about the rigid face's
  // mean depth): does the photometric cost pick the scale that gives the truest rotations?
  const { buildTexture, levelRadii, photometricScan, pyramid, rigidVertices, toGray } = await import('../../worker/face/photometric.ts');
  const STEP = Number(process.env.STEP ?? 5);
  const sel = ids.filter((i) => i % STEP === 0);
  const k = fit.intrinsics;
  const refI = N >> 1;
  const refImg = decodeImage(readFileSync(`${truthDir}/ori_imgs/${refI}.jpg`));
  const radii = levelRadii(S);
  const levels = new Map(sel.map((i) => [i, pyramid(toGray(decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`))), radii)]));
  const mesh2 = new Float64Array(468 * 2);
  for (let q = 0; q < 468; q++) { mesh2[q * 2] = meshes[refI][q * 3]; mesh2[q * 2 + 1] = meshes[refI][q * 3 + 1]; }
  const V = Float64Array.from(models.canonical.vertices);
  const rigid = rigidVertices(V);
  const rz = Array.from({ length: 468 }, (_, v) => v).filter(rigid);
  const meanZ = rz.reduce((s, v) => s + V[v * 3 + 2], 0) / rz.length;
  const refLevels = pyramid(toGray(refImg), radii);
  const scan = photometricScan(refLevels, sel.map((i) => levels.get(i)!), sel.map((i) => fit.frames[i]!.pose), k);
  for (const s of process.env.RELIEF.split(',').map(Number)) {
    const tpl = Float64Array.from(V);
    for (let v = 0; v < 468; v++) tpl[v * 3 + 2] = meanZ + s * (V[v * 3 + 2] - meanZ);
    const { cost, poses } = scan(buildTexture(mesh2, tpl, models.canonical.triangles, rigid, fit.frames[refI]!.pose, k));
    // Without the truth: the tracked mesh's stable points triangulated through these cameras (one
    // rigid scene), and what that scene leaves of them.
    const lm = landmarkResidual(meshes.filter((_, i) => i % STEP === 0), poses, k, models.canonical);
    const g = [0, 0, 0];
    sel.forEach((i, j) => rotationVector(mat3Mul(R(headTransform(poses[j])), mat3T(R(T[i])))).forEach((v, d) => (g[d] += v / sel.length)));
    const G = rodrigues(g);
    const err = sel.map((i, j) => rotationVector(mat3Mul(mat3T(G), mat3Mul(R(headTransform(poses[j])), mat3T(R(T[i]))))).map((v) => (v * 180) / Math.PI));
    const rows = poseError(truthDir, sel, poses, f, S / 2, S / 2, sel.filter((i) => i >= N - nVal).length, `relief ${s.toFixed(2)} `);
    // Per camera axis, how far the estimate swings against the truth (least-squares slope; yaw and
    // pitch above 1 where the template is flatter than the face, rot-amp.ts).
    const mean = karcherMean(sel.map((i) => R(T[i])));
    const rt = sel.map((i) => rotationVector(mat3Mul(R(T[i]), mat3T(mean))));
    const re = sel.map((_, j) => rotationVector(mat3Mul(mat3Mul(mat3T(G), R(headTransform(poses[j]))), mat3T(mean))));
    const slope = [0, 1, 2].map((d) => {
      const a = rt.map((v) => v[d]), b = re.map((v) => v[d]);
      const ma = a.reduce((x, y) => x + y) / a.length, mb = b.reduce((x, y) => x + y) / b.length;
      return a.reduce((acc, x, q) => acc + (x - ma) * (b[q] - mb), 0) / a.reduce((acc, x) => acc + (x - ma) ** 2, 0);
    });
    console.log(`relief ${s.toFixed(2)} cost ${cost.toFixed(4)} slope pitch/yaw/roll ${slope.map((x) => x.toFixed(2)).join('/')} rotation error mean ${[0, 1, 2].map((d) => (err.reduce((a, e) => a + Math.abs(e[d]), 0) / sel.length).toFixed(3)).join('/')} residual ${Math.sqrt(rows.reduce((a, r) => a + r.res ** 2, 0) / rows.length).toFixed(3)} px, landmarks' rigid residual ${lm.toFixed(4)} px`);
  }
}

if (process.env.TEX) {
  // Variants of the refinement on every STEP-th frame: finer pyramid (a level without blur), and
  // a reference averaged over frames aligned by a first pass (less noise in the template).
  const { buildTexture, levelRadii, pyramid, referenceValues, refinePosePhotometric, rigidVertices, toGray } = await import('../../worker/face/photometric.ts');
  const STEP = Number(process.env.STEP ?? 5);
  const sel = ids.filter((i) => i % STEP === 0);
  const k = fit.intrinsics;
  const refI = N >> 1;
  const V = Float64Array.from(models.canonical.vertices);
  const mesh2 = new Float64Array(468 * 2);
  for (let q = 0; q < 468; q++) { mesh2[q * 2] = meshes[refI][q * 3]; mesh2[q * 2 + 1] = meshes[refI][q * 3 + 1]; }
  const tex = buildTexture(mesh2, V, models.canonical.triangles, rigidVertices(V), fit.frames[refI]!.pose, k);
  const gray = new Map([...sel, refI].map((i) => [i, toGray(decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`)))]));
  for (const variant of process.env.TEX.split(',')) {
    const radii = variant.startsWith('fine') ? [...levelRadii(S), 0] : levelRadii(S);
    const lv = new Map([...gray].map(([i, g]) => [i, radii.map((r) => (r < 1 ? g : pyramid(g, [r])[0]))]));
    let refValues = referenceValues(tex, lv.get(refI)!);
    let poses = sel.map((i) => refinePosePhotometric(tex, refValues, lv.get(i)!, k, fit.frames[i]!.pose).pose);
    const passes = variant.endsWith('avg') ? 2 : 0;
    for (let p = 0; p < passes; p++) {
      // Average template: each texture sample's value in every aligned frame, gain/offset matched to the reference, mean.
      const n = tex.uv.length / 2;
      refValues = refValues.map((rv, level) => {
        const sum = new Float64Array(n);
        const cnt = new Float64Array(n);
        sel.forEach((i, j) => {
          const img = lv.get(i)![level];
          const { R: Rm, t } = poses[j];
          const vals = new Float64Array(n).fill(NaN);
          for (let s = 0; s < n; s++) {
            const X = [tex.points[s * 3], tex.points[s * 3 + 1], tex.points[s * 3 + 2]];
            const c = [0, 1, 2].map((r) => Rm[r * 3] * X[0] + Rm[r * 3 + 1] * X[1] + Rm[r * 3 + 2] * X[2] + t[r]);
            const u = (k.f * c[0]) / c[2] + k.cx - 0.5, v = (k.f * c[1]) / c[2] + k.cy - 0.5;
            const x0 = Math.floor(u), y0 = Math.floor(v);
            if (x0 < 0 || y0 < 0 || x0 >= img.width - 1 || y0 >= img.height - 1) continue;
            const fx = u - x0, fy = v - y0, d = img.data, w = img.width;
            vals[s] = (1 - fy) * ((1 - fx) * d[y0 * w + x0] + fx * d[y0 * w + x0 + 1]) + fy * ((1 - fx) * d[(y0 + 1) * w + x0] + fx * d[(y0 + 1) * w + x0 + 1]);
          }
          // gain/offset of this frame against the reference values
          let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
          for (let s = 0; s < n; s++) if (!Number.isNaN(vals[s]) && !Number.isNaN(rv[s])) { sx += rv[s]; sy += vals[s]; sxx += rv[s] ** 2; sxy += rv[s] * vals[s]; m++; }
          const gain = (m * sxy - sx * sy) / (m * sxx - sx * sx), off = (sy - gain * sx) / m;
          for (let s = 0; s < n; s++) if (!Number.isNaN(vals[s])) { sum[s] += (vals[s] - off) / gain; cnt[s]++; }
        });
        return Float64Array.from(sum, (v, s) => (cnt[s] > 0 ? v / cnt[s] : NaN));
      });
      poses = sel.map((i, j) => refinePosePhotometric(tex, refValues, lv.get(i)!, k, poses[j]).pose);
    }
    const g = [0, 0, 0];
    sel.forEach((i, j) => rotationVector(mat3Mul(R(headTransform(poses[j])), mat3T(R(T[i])))).forEach((v, d) => (g[d] += v / sel.length)));
    const G = rodrigues(g);
    const err = sel.map((i, j) => rotationVector(mat3Mul(mat3T(G), mat3Mul(R(headTransform(poses[j])), mat3T(R(T[i]))))).map((v) => (v * 180) / Math.PI));
    const rows = poseError(truthDir, sel, poses, f, S / 2, S / 2, sel.filter((i) => i >= N - nVal).length, `tex ${variant} `);
    console.log(`tex ${variant} rotation error mean ${[0, 1, 2].map((d) => (err.reduce((a, e) => a + Math.abs(e[d]), 0) / sel.length).toFixed(3)).join('/')} residual ${Math.sqrt(rows.reduce((a, r) => a + r.res ** 2, 0) / rows.length).toFixed(3)} px`);
  }
}

