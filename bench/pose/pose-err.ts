/**
 * Where a subject's camera error lies, in pixels (docs/prepare.md, issue 10): the truth's exact
 * projections of its rigid landmarks are triangulated through the estimated cameras (the best
 * rigid scene those cameras admit, as fit-lab.ts's residual), then each frame's remaining misfit
 * is explained by a per-frame correction of its estimated pose, split into a head rotation (about
 * the landmarks' centroid) and a translation (lateral, and depth as a scale). Reports the RMS
 * residual, and the pixel size of each part of the correction (mean over frames, and on the
 * held-out frames). Run: npx tsx bench/pose/pose-err.ts <truth subject> <prepared subject>
 */
import { readFileSync } from 'node:fs';
import { readNpy } from '../../worker/io/npy.ts';
import { poseFromTransform, type HeadPose } from '../../worker/face/pose-solver.ts';
import { mat3Mul, rodrigues, solveSpd } from '../../worker/face/linalg.ts';
import { addReprojection, poseStep } from './pose-gn.ts';

// Nose and eye corners: the synthetic subject's jaw-line points (0, 1, 15, 16) move with its jaw (truth's own cameras leave 0.37 px on them, 0.005 px on these).
const RIGID68 = process.env.JAW ? [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45, 0, 1, 15, 16] : [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45];

export interface PoseErrorRow { res: number; afterRot: number; afterTr: number; rotPx: number; latPx: number; depthPx: number; rot: number[] }

/** `P[j]` is the estimated pose (template -> OpenCV camera) of frame `ids[j]`; the last `nVal` are held out. */
export function poseError(truthDir: string, ids: number[], P: HeadPose[], f: number, cx: number, cy: number, nVal: number, label = ''): PoseErrorRow[] {
const lm2 = readNpy(new Uint8Array(readFileSync(`${truthDir}/ground_truth/landmarks_2d.npy`))).data as Float32Array;
// .lms convention (pixel centres on integers) -> continuous image coordinates (+0.5).
const obs = (id: number, q: number): [number, number] => [lm2[(id * 68 + q) * 2] + 0.5, lm2[(id * 68 + q) * 2 + 1] + 0.5];
const N = P.length;
const cam = (p: HeadPose, X: number[]) => [0, 1, 2].map((r) => p.R[r * 3] * X[0] + p.R[r * 3 + 1] * X[1] + p.R[r * 3 + 2] * X[2] + p.t[r]);
const proj = (c: number[]) => [(f * c[0]) / c[2] + cx, (f * c[1]) / c[2] + cy];
// Triangulate each rigid point (Gauss-Newton) through the estimated cameras.
const X = RIGID68.map((q) => {
  const p0 = P[0];
  const [u, v] = obs(ids[0], q);
  const z = p0.t[2];
  const c = [((u - cx) * z) / f - p0.t[0], ((v - cy) * z) / f - p0.t[1], 0];
  let x = [0, 1, 2].map((r) => p0.R[r] * c[0] + p0.R[3 + r] * c[1] + p0.R[6 + r] * c[2]);
  for (let it = 0; it < 15; it++) {
    const H = new Float64Array(9);
    const g = [0, 0, 0];
    P.forEach((p, j) => {
      const cc = cam(p, x);
      const [ou, ov] = obs(ids[j], q);
      const ru = (f * cc[0]) / cc[2] + cx - ou;
      const rv = (f * cc[1]) / cc[2] + cy - ov;
      const ju = [0, 1, 2].map((k) => (f / cc[2]) * p.R[k] - ((f * cc[0]) / cc[2] ** 2) * p.R[6 + k]);
      const jv = [0, 1, 2].map((k) => (f / cc[2]) * p.R[3 + k] - ((f * cc[1]) / cc[2] ** 2) * p.R[6 + k]);
      for (let a = 0; a < 3; a++) {
        g[a] += ju[a] * ru + jv[a] * rv;
        for (let b = 0; b < 3; b++) H[a * 3 + b] += ju[a] * ju[b] + jv[a] * jv[b];
      }
    });
    const step = Float64Array.from(g, (v) => -v);
    if (!solveSpd(H, step, 3)) break;
    x = x.map((v, d) => v + step[d]);
  }
  return x;
});
const centroid = [0, 1, 2].map((d) => X.reduce((s, x) => s + x[d], 0) / X.length);
const rows: PoseErrorRow[] = [];
const faceHalf = (() => {
  // Half the projected spread of the rigid points (px), for the depth error's size.
  const us = X.map((x) => proj(cam(P[0], x))[0]);
  return (Math.max(...us) - Math.min(...us)) / 2;
})();
for (let j = 0; j < N; j++) {
  const p = P[j];
  const C = X.map((x) => cam(p, x));
  const c0 = cam(p, centroid);
  const o = RIGID68.map((q) => obs(ids[j], q));
  // Correction: cam' = exp(w) (cam - c0) + c0 + tau; Gauss-Newton on the 17 reprojections.
  let w = [0, 0, 0];
  let tau = [0, 0, 0];
  const apply = (wv: number[], tv: number[]) => {
    const Rw = rodrigues(wv);
    return C.map((c) => {
      const d = [c[0] - c0[0], c[1] - c0[1], c[2] - c0[2]];
      return [0, 1, 2].map((r) => Rw[r * 3] * d[0] + Rw[r * 3 + 1] * d[1] + Rw[r * 3 + 2] * d[2] + c0[r] + tv[r]);
    });
  };
  const rms = (cs: number[][]) => Math.sqrt(cs.reduce((s, c, k) => { const [u, v] = proj(c); return s + (u - o[k][0]) ** 2 + (v - o[k][1]) ** 2; }, 0) / cs.length);
  for (let it = 0; it < 10; it++) {
    const cs = apply(w, tau);
    const H = new Float64Array(36);
    const g = new Float64Array(6);
    cs.forEach((c, k) => {
      const [u, v] = proj(c);
      const e = [u - o[k][0], v - o[k][1]];
      const d = [c[0] - c0[0] - tau[0], c[1] - c0[1] - tau[1], c[2] - c0[2] - tau[2]];
      addReprojection(H, g, c, d, e, f);
    });
    const step = poseStep(H, g);
    if (!step) break;
    const Rn = mat3Mul(rodrigues([step[0], step[1], step[2]]), rodrigues(w));
    // back to a rotation vector
    const ang = Math.acos(Math.max(-1, Math.min(1, (Rn[0] + Rn[4] + Rn[8] - 1) / 2)));
    const s = ang < 1e-12 ? 0.5 : ang / (2 * Math.sin(ang));
    w = [(Rn[7] - Rn[5]) * s, (Rn[2] - Rn[6]) * s, (Rn[3] - Rn[1]) * s];
    tau = tau.map((v, d) => v + step[3 + d]);
  }
  const base = rms(C);
  const rotOnly = apply(w, [0, 0, 0]);
  const trOnly = apply([0, 0, 0], tau);
  const rotPx = Math.sqrt(rotOnly.reduce((s, c, k) => { const a = proj(c), b = proj(C[k]); return s + (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2; }, 0) / C.length);
  rows.push({ res: base, afterRot: rms(rotOnly), afterTr: rms(trOnly), rotPx, latPx: (f * Math.hypot(tau[0], tau[1])) / c0[2], depthPx: (faceHalf * Math.abs(tau[2])) / c0[2], rot: w.map((v) => (Math.abs(v) * 180) / Math.PI) });
}
const mean = (sel: typeof rows, k: (r: (typeof rows)[0]) => number) => sel.reduce((s, r) => s + k(r), 0) / sel.length;
const rmsOf = (sel: typeof rows, k: (r: (typeof rows)[0]) => number) => Math.sqrt(sel.reduce((s, r) => s + k(r) ** 2, 0) / sel.length);
for (const [name, sel] of [['all', rows], ['held-out', rows.slice(N - nVal)]] as const) {
  console.log(`${label}${name.padEnd(8)} residual ${rmsOf(sel, (r) => r.res).toFixed(3)} px (95th percentile frame ${[...sel].map((r) => r.res).sort((a, b) => a - b)[Math.floor(sel.length * 0.95)].toFixed(3)}, worst ${Math.max(...sel.map((r) => r.res)).toFixed(3)}) | corrected by rotation alone ${rmsOf(sel, (r) => r.afterRot).toFixed(3)}, by translation alone ${rmsOf(sel, (r) => r.afterTr).toFixed(3)} | correction size: rotation ${rmsOf(sel, (r) => r.rotPx).toFixed(3)} px (mean ${[0, 1, 2].map((d) => mean(sel, (r) => r.rot[d]).toFixed(3)).join('/')} deg x/y/z), lateral ${rmsOf(sel, (r) => r.latPx).toFixed(3)} px, depth ${rmsOf(sel, (r) => r.depthPx).toFixed(3)} px (face half-width ${faceHalf.toFixed(1)} px)`);
}
return rows;
}

if (process.argv[1]?.endsWith('pose-err.ts')) {
  const [truthDir, estDir] = process.argv.slice(2);
  const read = (d: string, s: string) => JSON.parse(readFileSync(`${d}/transforms_${s}.json`, 'utf8'));
  const est = ['train', 'val'].map((s) => read(estDir, s));
  const ids: number[] = est.flatMap((e) => e.frames.map((fr: any) => fr.img_id));
  const P: HeadPose[] = est.flatMap((e) => e.frames.map((fr: any) => poseFromTransform(fr.transform_matrix)));
  poseError(truthDir, ids, P, est[0].focal_len, est[0].cx, est[0].cy, est[1].frames.length);
}
