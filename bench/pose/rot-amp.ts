/**
 * How a prepared subject's head rotations compare with the truth's, per axis (issue 10's training
 * proof; docs/prepare.md "The camera's depth"): the estimated head frame is aligned to the truth's
 * by one global rotation (the Karcher mean of R_true^T R_est over all frames), then each frame's
 * rotation is taken relative to the truth's mean pose in camera axes. Prints the rotation error
 * (mean, max; on the held-out frames too) and, per camera axis (x: pitch, y: yaw, z: roll), how far
 * the estimate swings against the truth (least-squares slope) and their correlation. A template
 * deeper than the head shows as a yaw and pitch slope above 1.
 * Run: npx tsx bench/pose/rot-amp.ts <truth subject> <prepared subject> [more prepared subjects]
 */
import { readFileSync } from 'node:fs';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { poseFromTransform } from '../../worker/face/pose-solver.ts';

type Frames = { ids: number[]; R: Mat3[]; nVal: number };
function read(dir: string): Frames {
  const ids: number[] = [];
  const R: Mat3[] = [];
  let nVal = 0;
  for (const split of ['train', 'val']) {
    const t = JSON.parse(readFileSync(`${dir}/transforms_${split}.json`, 'utf8')) as { frames: { img_id: number; transform_matrix: number[][] }[] };
    for (const f of t.frames) {
      ids.push(f.img_id);
      R.push(poseFromTransform(f.transform_matrix).R);
      if (split === 'val') nVal++;
    }
  }
  return { ids, R, nVal };
}
function karcher(rs: Mat3[]): Mat3 {
  let m = rs[0];
  for (let it = 0; it < 20; it++) {
    const w = [0, 0, 0];
    for (const r of rs) rotationVector(mat3Mul(mat3T(m), r)).forEach((v, d) => (w[d] += v / rs.length));
    m = mat3Mul(m, rodrigues(w));
    if (Math.hypot(...w) < 1e-12) break;
  }
  return m;
}
const DEG = 180 / Math.PI;
const [truthDir, ...prepDirs] = process.argv.slice(2);
if (!truthDir || prepDirs.length === 0) throw new Error('usage: rot-amp.ts <truth subject> <prepared subject>...');
const truth = read(truthDir);
const byId = new Map(truth.ids.map((id, j) => [id, truth.R[j]]));
for (const dir of prepDirs) {
  const est = read(dir);
  const T = est.ids.map((id) => byId.get(id)!);
  if (T.some((r) => !r)) throw new Error(`${dir}: frames the truth does not have`);
  // Head-frame alignment: R_est ~ R_true H.
  const H = karcher(est.R.map((r, j) => mat3Mul(mat3T(T[j]), r)));
  const E = est.R.map((r) => mat3Mul(r, mat3T(H)));
  const err = E.map((r, j) => rotationAngle(r, T[j]) * DEG);
  const mean = karcher(T);
  const rt = T.map((r) => rotationVector(mat3Mul(r, mat3T(mean))));
  const re = E.map((r) => rotationVector(mat3Mul(r, mat3T(mean))));
  const val = err.slice(err.length - est.nVal);
  const avg = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const axes = ['pitch (x)', 'yaw (y)', 'roll (z)'].map((name, d) => {
    const a = rt.map((v) => v[d]);
    const b = re.map((v) => v[d]);
    const [ma, mb] = [avg(a), avg(b)];
    const cov = avg(a.map((x, i) => (x - ma) * (b[i] - mb)));
    const va = avg(a.map((x) => (x - ma) ** 2));
    const vb = avg(b.map((x) => (x - mb) ** 2));
    return `${name} truth range ${((Math.max(...a) - Math.min(...a)) * DEG).toFixed(1)} deg, slope ${(cov / va).toFixed(2)}, r ${(cov / Math.sqrt(va * vb)).toFixed(3)}`;
  });
  console.log(`${dir}: rotation error after one global alignment mean ${avg(err).toFixed(2)} deg, max ${Math.max(...err).toFixed(2)}; held out (${val.length}) mean ${avg(val).toFixed(2)}, max ${Math.max(...val).toFixed(2)}`);
  for (const a of axes) console.log(`  ${a}`);
}
