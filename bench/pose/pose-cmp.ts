/** Rotation error of one subject's transforms against another's (e.g. prepared vs a synth subject's truth) after one global alignment; docs/prepare.md. Run: npx tsx bench/pose/pose-cmp.ts <truth dir> <prepared dir>  (SERIES=1, MOUTH=1: more) */
import { readFileSync } from 'node:fs';
import { mat3Mul, mat3T, rodrigues, rotationVector } from '../../worker/face/linalg.ts';
const load = (d: string) => ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${d}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.transform_matrix as number[][]));
const [a, b] = process.argv.slice(2);
const T = load(a), P = load(b);
const R = (m: number[][]) => Float64Array.of(m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]);
// transform_matrix is camera-to-head, so the template's head axes differing from the subject's
// is one fixed rotation on the LEFT (c2w_est = G c2w_true); aligning on the right (a fixed
// camera-frame rotation, as this script did before session 5) leaks the 10-12 degree axis
// offset into every frame's error (roll most: 0.33 mean instead of 0.12 on the proof's subject).
const n = T.length; const g = [0, 0, 0];
T.forEach((t, i) => rotationVector(mat3Mul(R(P[i]), mat3T(R(t)))).forEach((v, d) => (g[d] += v / n)));
const G = rodrigues(g);
const err = T.map((t, i) => rotationVector(mat3Mul(mat3T(G), mat3Mul(R(P[i]), mat3T(R(t))))).map((v) => (v * 180) / Math.PI));
const rng = T.map((t) => rotationVector(mat3Mul(mat3T(R(T[0])), R(t))).map((v) => (v * 180) / Math.PI));
console.log('alignment', (Math.hypot(...g) * 180 / Math.PI).toFixed(2), 'max |err| per axis', [0, 1, 2].map((d) => Math.max(...err.map((e) => Math.abs(e[d]))).toFixed(2)).join(' '), 'mean', [0, 1, 2].map((d) => (err.reduce((s, e) => s + Math.abs(e[d]), 0) / n).toFixed(2)).join(' '));
console.log('truth range per axis', [0, 1, 2].map((d) => `${Math.min(...rng.map((e) => e[d])).toFixed(1)}..${Math.max(...rng.map((e) => e[d])).toFixed(1)}`).join(' '));
const dist = (m: number[][]) => Math.hypot(m[0][3], m[1][3], m[2][3]);
console.log('dist truth', dist(T[0]).toFixed(3), 'prep', dist(P[0]).toFixed(3));
if (process.env.SERIES) {
  const lag1 = err.slice(1).reduce((s, e, i) => s + e[0] * err[i][0], 0) / err.reduce((s, e) => s + e[0] * e[0], 0);
  const m = rng.reduce((s, e) => s + e[0], 0) / n;
  const cov = err.reduce((s, e, i) => s + e[0] * (rng[i][0] - m), 0), vr = rng.reduce((s, e) => s + (e[0] - m) ** 2, 0);
  console.log('pitch err lag-1 autocorr', lag1.toFixed(3), 'regression of err on true pitch', (cov / vr).toFixed(3));
  console.log(err.filter((_, i) => i % 10 === 0).slice(0, 30).map((e, j) => `${rng[j * 10][0].toFixed(1)}:${e[0].toFixed(1)}`).join(' '));
}
if (process.env.MOUTH) {
  const ids = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${b}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.img_id));
  const open = ids.map((id: number) => { const l = readFileSync(`${b}/ori_imgs/${id}.lms`, 'utf8').trim().split('\n').map((r) => r.trim().split(/\s+/).map(Number)); return Math.hypot(l[66][0] - l[62][0], l[66][1] - l[62][1]) / Math.hypot(l[16][0] - l[0][0], l[16][1] - l[0][1]); });
  const mo = open.reduce((s: number, v: number) => s + v, 0) / n;
  const me = err.reduce((s, e) => s + e[0], 0) / n;
  let c = 0, va = 0, vb = 0; open.forEach((v: number, i: number) => { c += (v - mo) * (err[i][0] - me); va += (v - mo) ** 2; vb += (err[i][0] - me) ** 2; });
  console.log('corr(mouth opening, pitch err)', (c / Math.sqrt(va * vb)).toFixed(3), 'mean opening', mo.toFixed(3));
}
