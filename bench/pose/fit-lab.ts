/** Experiment harness (docs/prepare.md): tracks a synth subject's frames once (meshes cached in
 * <cache>), then fits the video and reports rotation errors against the subject's true transforms
 * after one global alignment. Run: npx tsx bench/pose/fit-lab.ts <synth subject dir> <cache file> [focal] */
import { readFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { trackedMeshes } from './mesh-cache.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { fitVideo, refineVideoPhotometric } from '../../worker/face/fit-video.ts';
import { headTransform, poseFromTransform, type HeadPose } from '../../worker/face/pose-solver.ts';
import { blur, buildTexture, levelRadii, referenceValues, refinePosePhotometric, toGray } from '../../worker/face/photometric.ts';
import { smoothPoses } from '../../worker/model/poses.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { solveSpd, mat3Mul, mat3T, rodrigues, rotationVector } from '../../worker/face/linalg.ts';

const [truthDir, cache] = process.argv.slice(2);
const F = process.argv[4] ? Number(process.argv[4]) : undefined;
const T = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.transform_matrix as number[][]));
const truthF = JSON.parse(readFileSync(`${truthDir}/transforms_train.json`, 'utf8')).focal_len;
const N = T.length;
const models = await loadFaceModels(nodeFaceModelSource);
const { side: S, meshes } = trackedMeshes(truthDir, cache, N, models);
const R = (m: number[][]) => Float64Array.of(m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]);
export function report(name: string, P: number[][][]) {
  // transform_matrix is camera-to-head: a different head frame (the template's axes vs the
  // subject's) is a fixed rotation on the LEFT (c2w_est = H c2w_true). RIGHT=1 aligns on the
  // right instead (a fixed camera-frame rotation), as pose-cmp.ts did.
  const g = [0, 0, 0];
  const right = !!process.env.RIGHT;
  T.forEach((t, i) => rotationVector(right ? mat3Mul(mat3T(R(t)), R(P[i])) : mat3Mul(R(P[i]), mat3T(R(t)))).forEach((v, d) => (g[d] += v / N)));
  const G = rodrigues(g);
  // Error expressed in head axes (x pitch, y yaw, z roll) either way.
  const err = T.map((t, i) => rotationVector(right ? mat3Mul(mat3T(R(t)), mat3Mul(R(P[i]), mat3T(G))) : mat3Mul(mat3T(G), mat3Mul(R(P[i]), mat3T(R(t))))).map((v) => (v * 180) / Math.PI));
  if (name.endsWith('smoothed')) console.log('  alignment', (Math.hypot(...g) * 180 / Math.PI).toFixed(2), 'deg', g.map((v) => (v * 180 / Math.PI).toFixed(2)).join(' '));
  const held = err.slice(N - 50);
  const rng = T.map((t) => rotationVector(mat3Mul(mat3T(R(T[0])), R(t))).map((v) => (v * 180) / Math.PI));
  const slope = [0, 1, 2].map((d) => {
    const m = rng.reduce((s, e) => s + e[d], 0) / N;
    const me = err.reduce((s, e) => s + e[d], 0) / N;
    let c = 0, v = 0, ve = 0;
    rng.forEach((e, i) => { c += (e[d] - m) * (err[i][d] - me); v += (e[d] - m) ** 2; ve += (err[i][d] - me) ** 2; });
    return `${(c / v).toFixed(2)}(r${(c / Math.sqrt(v * ve)).toFixed(2)})`;
  });
  if (process.env.EXPR) {
    const motion = JSON.parse(readFileSync(`${truthDir}/ground_truth/meta.json`, 'utf8')).motion as Record<string, number>[];
    const keys = ['open', 'smile', 'brows', 'eyeRight', 'yaw', 'pitch', 'roll'];
    for (const d of [0, 1]) {
      const me = err.reduce((s2, e) => s2 + e[d], 0) / N;
      const corr = keys.map((k) => {
        const xs = motion.map((m) => m[k]);
        const mx = xs.reduce((a, b) => a + b, 0) / N;
        let c = 0, v = 0, ve = 0;
        xs.forEach((x, i) => { c += (x - mx) * (err[i][d] - me); v += (x - mx) ** 2; ve += (err[i][d] - me) ** 2; });
        return `${k} ${(c / Math.sqrt(v * ve)).toFixed(2)}`;
      });
      console.log(`  axis ${d} err corr:`, corr.join(', '));
    }
  }
  console.log(name.padEnd(36), 'max', [0, 1, 2].map((d) => Math.max(...err.map((e) => Math.abs(e[d]))).toFixed(2)).join(' '), 'mean', [0, 1, 2].map((d) => (err.reduce((s, e) => s + Math.abs(e[d]), 0) / N).toFixed(2)).join(' '), 'held-out mean', [0, 1, 2].map((d) => (held.reduce((s, e) => s + Math.abs(e[d]), 0) / held.length).toFixed(2)).join(' '), 'slope on truth', slope.join(' '));
}
// The true 68 landmarks' projections (exact, frame pixels): what the estimated cameras must explain.
const lm2 = readNpy(new Uint8Array(readFileSync(`${truthDir}/ground_truth/landmarks_2d.npy`))).data as Float32Array;
/** Training-relevant pose error: the best rigid 68-point shape in the estimate's head frame,
 * triangulated through the estimated cameras from the true projections; the RMS pixel residual
 * is what no scene (a NeRF included) could explain with these cameras. Expression moves the true
 * landmarks, so only the rigid ones count (eyes corners, nose, brows' ends excluded? all upper face). */
const RIGID68 = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45, 0, 1, 15, 16];
function consistency(poses: HeadPose[], f: number, ids?: number[]): { rms: number; heldRms: number; worst: number } {
  const fid = (j: number) => (ids ? ids[j] : j);
  const k = { f, cx: S / 2, cy: S / 2 };
  let sq = 0, cnt = 0, hsq = 0, hcnt = 0; let worst = 0;
  const perFrame = new Float64Array(poses.length);
  for (const q of RIGID68) {
    // Triangulate: Gauss-Newton from a point on the first frame's ray at its depth.
    const P0 = poses[0];
    let X = [0, 0, 0];
    { const z = P0.t[2]; const cam = [((lm2[q * 2] - k.cx) * z) / f - P0.t[0], ((lm2[q * 2 + 1] - k.cy) * z) / f - P0.t[1], 0]; X = [0, 1, 2].map((r) => P0.R[r] * cam[0] + P0.R[3 + r] * cam[1] + P0.R[6 + r] * cam[2]); }
    for (let it = 0; it < 12; it++) {
      const H = new Float64Array(9); const g = [0, 0, 0];
      poses.forEach(({ R, t }, j) => {
        const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0], y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1], z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
        const ru = (f * x) / z + k.cx - lm2[(fid(j) * 68 + q) * 2], rv = (f * y) / z + k.cy - lm2[(fid(j) * 68 + q) * 2 + 1];
        const ju = [0, 1, 2].map((c) => (f / z) * R[c] - ((f * x) / (z * z)) * R[6 + c]);
        const jv = [0, 1, 2].map((c) => (f / z) * R[3 + c] - ((f * y) / (z * z)) * R[6 + c]);
        for (let r = 0; r < 3; r++) { g[r] += ju[r] * ru + jv[r] * rv; for (let c = 0; c < 3; c++) H[r * 3 + c] += ju[r] * ju[c] + jv[r] * jv[c]; }
      });
      for (let d = 0; d < 3; d++) H[d * 4] *= 1 + 1e-9;
      const step = Float64Array.from(g, (v) => -v);
      if (!solveSpd(H, step, 3)) break;
      X = X.map((v, d) => v + step[d]);
    }
    poses.forEach(({ R, t }, j) => {
      const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0], y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1], z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
      const e = ((f * x) / z + k.cx - lm2[(fid(j) * 68 + q) * 2]) ** 2 + ((f * y) / z + k.cy - lm2[(fid(j) * 68 + q) * 2 + 1]) ** 2;
      perFrame[j] += e / RIGID68.length;
      if (fid(j) >= N - 50) { hsq += e; hcnt++; } else { sq += e; cnt++; }
    });
  }
  perFrame.forEach((v) => (worst = Math.max(worst, Math.sqrt(v))));
  return { rms: Math.sqrt(sq / cnt), heldRms: Math.sqrt(hsq / hcnt), worst };
}
const showConsistency = (name: string, poses: HeadPose[], f: number, ids?: number[]) => { const c = consistency(poses, f, ids); console.log(`${name.padEnd(36)} rigid-landmark residual through the cameras: train ${c.rms.toFixed(3)} px, held-out ${c.heldRms.toFixed(3)} px, worst frame ${c.worst.toFixed(3)} px`); };
showConsistency('truth cameras', T.map((m) => poseFromTransform(m)), truthF);
const variants: [string, Parameters<typeof fitVideo>[4]][] = (process.env.VARIANTS ?? 'base,robust').split(',').map((v) => {
  const o: Record<string, unknown> = F ? { focal: F } : {};
  if (v === 'base') o.robustRounds = 0;
  if (v.startsWith('r')) o.robustRounds = Number(v.slice(1)) || 2;
  if (v.startsWith('h')) { o.robustRounds = 0; const [a, b] = v.slice(1).split('k'); o.huberRounds = Number(a); o.huberK = Number(b); }
  return [v, o];
});
for (const [name, o] of variants) {
  const t0 = performance.now();
  const fit = fitVideo(meshes, S, S, models.canonical, o);
  console.log(`${name}: fit ${((performance.now() - t0) / 1000).toFixed(1)} s, focal ${fit.intrinsics.f.toFixed(1)} (truth ${truthF})`);
  report(`${name} smoothed`, fit.frames.map((f) => f!.transform));
  report(`${name} raw`, fit.frames.map((f) => headTransform(f!.pose)));
  showConsistency(`${name} smoothed`, fit.frames.map((f) => poseFromTransform(f!.transform)), fit.intrinsics.f);
  showConsistency(`${name} raw`, fit.frames.map((f) => f!.pose), fit.intrinsics.f);
  if (process.env.PROC) {
    // Rotation from the mesh model's own 3-D output: weighted similarity Procrustes (Gauss-Newton on R).
    const w = models.canonical.weights;
    const V = models.canonical.vertices;
    const proc = fit.frames.map((f, j) => {
      const m = meshes[j];
      let R = Float64Array.from(f!.pose.R);
      const idx = Array.from({ length: 468 }, (_, i) => i).filter((i) => w[i] > 0);
      const W = idx.map((i) => Math.max(w[i], 0.02));
      const sw = W.reduce((a, b) => a + b, 0);
      const cX = [0, 1, 2].map((d) => idx.reduce((a, i, q) => a + W[q] * V[i * 3 + d], 0) / sw);
      const cY = [0, 1, 2].map((d) => idx.reduce((a, i, q) => a + W[q] * m[i * 3 + d], 0) / sw);
      for (let it = 0; it < 8; it++) {
        const RX = idx.map((i) => [0, 1, 2].map((r) => R[r * 3] * (V[i * 3] - cX[0]) + R[r * 3 + 1] * (V[i * 3 + 1] - cX[1]) + R[r * 3 + 2] * (V[i * 3 + 2] - cX[2])));
        const Y = idx.map((i) => [0, 1, 2].map((d) => m[i * 3 + d] - cY[d]));
        let num = 0, den = 0;
        RX.forEach((p, q) => { num += W[q] * (p[0] * Y[q][0] + p[1] * Y[q][1] + p[2] * Y[q][2]); den += W[q] * (p[0] ** 2 + p[1] ** 2 + p[2] ** 2); });
        const sc = num / den;
        const H = new Float64Array(9); const g = [0, 0, 0];
        RX.forEach((p, q) => {
          const e = [sc * p[0] - Y[q][0], sc * p[1] - Y[q][1], sc * p[2] - Y[q][2]];
          // d(s (I+[w]x) p)/dw = -s [p]x
          const J = [[0, sc * p[2], -sc * p[1]], [-sc * p[2], 0, sc * p[0]], [sc * p[1], -sc * p[0], 0]];
          for (let a = 0; a < 3; a++) { for (let r = 0; r < 3; r++) { g[a] += W[q] * J[r][a] * e[r]; for (let b = 0; b < 3; b++) H[a * 3 + b] += W[q] * J[r][a] * J[r][b]; } }
        });
        const step = Float64Array.from(g, (v) => -v);
        if (!solveSpd(H, step, 3)) break;
        R = Float64Array.from(mat3Mul(rodrigues(step), R));
      }
      return { R, t: f!.pose.t };
    });
    report(`${name} mesh-3d procrustes`, proc.map(headTransform));
  }
  for (const rad of (process.env.SWEEP ?? '').split(',').filter(Boolean).map(Number)) {
    const sm = smoothPoses(Float32Array.from(fit.frames.flatMap((f) => headTransform(f!.pose).flat())), N, rad);
    showConsistency(`${name} smoothed r=${rad}`, Array.from({ length: N }, (_, j) => poseFromTransform([0, 1, 2, 3].map((r) => Array.from(sm.subarray(j * 16 + r * 4, j * 16 + r * 4 + 4))))), fit.intrinsics.f);
  }
  if (process.env.PIPE) {
    // The pipeline's refinement (worker/face/fit-video.ts refineVideoPhotometric) on every STEP-th frame.
    const STEP = Number(process.env.STEP ?? 1);
    const sub = meshes.map((m, i) => (i % STEP === 0 ? m : null));
    const sel = sub.flatMap((m, i) => (m ? [i] : []));
    const t1 = performance.now();
    const { fit: ref, fallbacks } = await refineVideoPhotometric(fit, sub, models.canonical, { read: (i) => decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`)) });
    console.log(`pipeline photometric: ${((performance.now() - t1) / sel.length).toFixed(1)} ms/frame (decode included), ${fallbacks} fallbacks`);
    showConsistency(`${name} landmarks raw, subset`, sel.map((i) => fit.frames[i]!.pose), fit.intrinsics.f, sel);
    showConsistency(`${name} photometric raw, subset`, sel.map((i) => ref.frames[i]!.pose), fit.intrinsics.f, sel);
    if (STEP === 1) {
      report(`${name} photometric smoothed`, ref.frames.map((f) => f!.transform));
      showConsistency(`${name} photometric smoothed`, ref.frames.map((f) => poseFromTransform(f!.transform)), fit.intrinsics.f);
    }
  }
  if (process.env.PHOTO) {
    const k = fit.intrinsics;
    const STEP = Number(process.env.STEP ?? 1);
    const sel = Array.from({ length: N }, (_, i) => i).filter((i) => i % STEP === 0 || i === Math.floor(N / 2));
    const frames: ReturnType<typeof decodeImage>[] = [];
    for (const i of sel) frames[i] = decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`));
    const V = models.canonical.vertices;
    const mask = process.env.PHOTO_MASK ?? 'upper';
    const rigid = (v: number) => {
      const x = Math.abs(V[v * 3]), y = V[v * 3 + 1];
      if (!(y > V[2 * 3 + 1])) return false;
      if (mask === 'noeyes') return !(x > 0.9 && x < 6.2 && y > 1.3 && y < 6.2);
      if (mask === 'nosefore') return x < 1.2 || y > 6;
      return true;
    };
    const ref = Math.floor(N / 2);
    const radii = levelRadii(S);
    const g0 = toGray(frames[ref]);
    const refLevels = radii.map((r) => blur(g0, r));
    const m2 = new Float64Array(936); for (let q = 0; q < 468; q++) { m2[q * 2] = meshes[ref][q * 3]; m2[q * 2 + 1] = meshes[ref][q * 3 + 1]; }
    const tex = buildTexture(m2, Float64Array.from(V), models.canonical.triangles, rigid, fit.frames[ref]!.pose, k);
    const refValues = referenceValues(tex, refLevels);
    const t1 = performance.now();
    const refined = fit.frames.map((f, i) => (frames[i] ? refinePosePhotometric(tex, refValues, radii.map((rr) => blur(toGray(frames[i]), rr)), k, f!.pose).pose : f!.pose));
    if (STEP > 1) {
      showConsistency(`${name} landmarks raw on the subset`, sel.map((i) => fit.frames[i]!.pose), k.f, sel);
      showConsistency(`${name} photo raw on the subset`, sel.map((i) => refined[i]), k.f, sel);
    }
    console.log(`photometric ${((performance.now() - t1) / sel.length).toFixed(1)} ms/frame`);
    report(`${name} photo raw`, refined.map(headTransform));
    showConsistency(`${name} photo raw`, refined, k.f);
    const sm = smoothPoses(Float32Array.from(refined.flatMap((p) => headTransform(p).flat())), N, 2);
    showConsistency(`${name} photo smoothed`, Array.from({ length: N }, (_, j) => poseFromTransform([0, 1, 2, 3].map((r) => Array.from(sm.subarray(j * 16 + r * 4, j * 16 + r * 4 + 4))))), k.f);
  }
}
