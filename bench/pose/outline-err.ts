/**
 * Are a subject's cameras consistent for the whole head, not only for the face (docs/prepare.md,
 * issue 10)? The camera ablation's extra error sits on the head's outline (hair edge, jaw line)
 * and the eyes, not on the skin. This takes 3-D points of the synthetic head (truth's head frame,
 * worker/synth/face.ts): the rigid landmarks, and the outline (the hair cap's and skull's rims, the
 * ears), projects them with the truth's cameras (exact observations), triangulates each through
 * the estimated cameras (the best rigid scene those cameras admit, structure.ts triangulatePoint),
 * and reports the RMS reprojection residual per point set, over all frames and the held-out ones.
 * A residual the estimated cameras leave is a point no NeRF can place consistently.
 * BA=n: then n rounds of bundle adjustment of the cameras alone (every point set re-triangulated,
 * each frame's pose re-fit to the points; focal kept): the best any pose estimate at that focal
 * could do on these points.
 * BA_OUT=<dir>: writes the last subject's adjusted cameras there (transforms_*.json; ablation only:
 * cameras fit to the truth's own points).
 * Run: [BA=10] npx tsx bench/pose/outline-err.ts <truth subject> <subject>...
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { headTransform, poseFromTransform, type HeadPose } from '../../worker/face/pose-solver.ts';
import { triangulatePoint } from '../../worker/face/structure.ts';
import { makeIdentity } from '../../worker/synth/face.ts';
import { mat3Mul, rodrigues } from '../../worker/face/linalg.ts';
import { addReprojection, poseStep } from './pose-gn.ts';

const RIGID68 = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45];
const [truthDir, ...estDirs] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${truthDir}/ground_truth/meta.json`, 'utf8')) as { seed: number; focal: number; cx: number; cy: number };
type Split = { focal_len: number; cx: number; cy: number; frames: { img_id: number; transform_matrix: number[][] }[] };
const read = (d: string): Split[] => ['train', 'val'].map((s) => JSON.parse(readFileSync(`${d}/transforms_${s}.json`, 'utf8')) as Split);
const truth = read(truthDir);
const tm = new Map(truth.flatMap((s) => s.frames.map((f) => [f.img_id, f.transform_matrix] as const)));
const valIds = new Set(truth[1].frames.map((f) => f.img_id));

/** Truth's projection of a head-frame point (metres) in frame `id`: continuous pixel coordinates. */
function project(id: number, X: number[]): [number, number] {
  const m = tm.get(id)!;
  const d = [X[0] - m[0][3], X[1] - m[1][3], X[2] - m[2][3]];
  // OpenGL camera axes: columns of the camera-to-head rotation.
  const c = [0, 1, 2].map((k) => m[0][k] * d[0] + m[1][k] * d[1] + m[2][k] * d[2]);
  return [meta.cx + (meta.focal * c[0]) / -c[2], meta.cy - (meta.focal * c[1]) / -c[2]];
}

const id = makeIdentity(meta.seed);
const h = id.hair;
const s = id.skull;
const sets: Record<string, number[][]> = {};
{
  // .npy: the header is a multiple of 64 bytes; the first frame's rigid points (they do not move).
  const bytes = readFileSync(`${truthDir}/ground_truth/landmarks_3d_head.npy`);
  const hl = bytes.readUInt16LE(8);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + hl, bytes.byteOffset + 10 + hl + 68 * 3 * 4));
  sets['rigid landmarks'] = RIGID68.map((q) => [data[q * 3], data[q * 3 + 1], data[q * 3 + 2]]);
}
// The hair cap's rim in its centre plane (upper half, from ear level over the top).
sets['hair rim'] = Array.from({ length: 13 }, (_, j) => {
  const a = (Math.PI * j) / 12;
  return [h.c[0] + h.r[0] * Math.cos(a), h.c[1] + h.r[1] * Math.sin(a), h.c[2]];
});
// The skull's rim below ear level, down to the jaw's corner (not the chin: it moves with the jaw).
sets['cheek rim'] = [-1, 1].flatMap((side) => [10, 20, 30, 40].map((deg) => {
  const a = (deg * Math.PI) / 180;
  return [s.c[0] + side * s.r[0] * Math.cos(a), s.c[1] - s.r[1] * Math.sin(a), s.c[2]];
}));
sets['ears'] = id.ears.map((e) => [e.c[0] + Math.sign(e.c[0]) * e.r[0], e.c[1], e.c[2]]);

type K = { f: number; cx: number; cy: number };
const points3: Map<string, number[]> = new Map();
function residuals(ids: number[], poses: HeadPose[], k: K, pts: number[][]) {
  const perFrame = new Float64Array(ids.length);
  for (const X0 of pts) {
    const views = ids.map((i) => Float64Array.from(project(i, X0)));
    // Start on the first camera's ray at the depth of the head's origin.
    const p0 = poses[0];
    const z = p0.t[2];
    const cam = [((views[0][0] - k.cx) * z) / k.f - p0.t[0], ((views[0][1] - k.cy) * z) / k.f - p0.t[1], z - p0.t[2]];
    const X = [0, 1, 2].map((r) => p0.R[r] * cam[0] + p0.R[3 + r] * cam[1] + p0.R[6 + r] * cam[2]);
    const key = X0.join(',');
    if (points3.has(key)) X.splice(0, 3, ...points3.get(key)!);
    triangulatePoint(X, { views, stride: 2, index: 0 }, poses, k, { iterations: 30, tolerance: 1e-7 });
    points3.set(key, X);
    poses.forEach((p, j) => {
      const c = [0, 1, 2].map((r) => p.R[r * 3] * X[0] + p.R[r * 3 + 1] * X[1] + p.R[r * 3 + 2] * X[2] + p.t[r]);
      perFrame[j] += ((k.f * c[0]) / c[2] + k.cx - views[j][0]) ** 2 + ((k.f * c[1]) / c[2] + k.cy - views[j][1]) ** 2;
    });
  }
  return Array.from(perFrame, (v) => v / pts.length);
}

/** One frame's pose re-fit (Gauss-Newton, 6 DOF) to world points X seen at obs. */
function refitPose(p: HeadPose, X: number[][], obs: [number, number][], k: K): HeadPose {
  let { R, t } = p;
  for (let it = 0; it < 8; it++) {
    const H = new Float64Array(36);
    const g = new Float64Array(6);
    X.forEach((x, q) => {
      const c = [0, 1, 2].map((r) => R[r * 3] * x[0] + R[r * 3 + 1] * x[1] + R[r * 3 + 2] * x[2] + t[r]);
      const e = [(k.f * c[0]) / c[2] + k.cx - obs[q][0], (k.f * c[1]) / c[2] + k.cy - obs[q][1]];
      addReprojection(H, g, c, [c[0] - t[0], c[1] - t[1], c[2] - t[2]], e, k.f);
    });
    const step = poseStep(H, g);
    if (!step) break;
    R = mat3Mul(rodrigues([step[0], step[1], step[2]]), R);
    t = [t[0] + step[3], t[1] + step[4], t[2] + step[5]];
  }
  return { R, t };
}

for (const dir of [truthDir, ...estDirs]) {
  points3.clear();
  const est = read(dir);
  const frames = est.flatMap((e) => e.frames);
  const ids = frames.map((f) => f.img_id);
  let poses = frames.map((f) => poseFromTransform(f.transform_matrix));
  const k = { f: est[0].focal_len, cx: est[0].cx, cy: est[0].cy };
  const report = (label: string) => {
    const cells = Object.entries(sets).map(([name, pts]) => {
      const r = residuals(ids, poses, k, pts);
      const rms = (sel: number[]) => Math.sqrt(sel.reduce((a, b) => a + b, 0) / sel.length);
      return `${name} ${rms(r).toFixed(3)} / ${rms(r.filter((_, j) => valIds.has(ids[j]))).toFixed(3)}`;
    });
    console.log(`${dir} (focal ${k.f.toFixed(1)})${label}: RMS px all / held-out: ${cells.join(' | ')}`);
  };
  report('');
  const rounds = Number(process.env.BA ?? 0);
  if (rounds > 0) {
    const all = Object.values(sets).flat();
    for (let r = 0; r < rounds; r++) {
      residuals(ids, poses, k, all);
      const X = all.map((x0) => points3.get(x0.join(','))!);
      poses = poses.map((p, j) => refitPose(p, X, all.map((x0) => project(ids[j], x0)), k));
    }
    report(` after ${rounds} rounds of camera BA`);
    if (process.env.BA_OUT) {
      let j = 0;
      for (const [name, e] of [['train', est[0]], ['val', est[1]]] as const) {
        const out = { ...e, frames: e.frames.map((f) => ({ ...f, transform_matrix: headTransform(poses[j++]) })) };
        writeFileSync(`${process.env.BA_OUT}/transforms_${name}.json`, JSON.stringify(out, null, 1));
      }
    }
  }
}
