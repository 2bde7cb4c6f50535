/** A prepared subject's .lms against a ground-truth subject's (same frames, same image plane: the
 * training proof's two subjects): mouth points 48-67 and all 68, as a share of the face width
 * (truth's jaw 0 to 16), mean and worst, over every frame and over the held-out ones.
 * Run: npx tsx bench/pose/lms-cmp.ts <truth subject> <prepared subject> */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [truth, prep] = process.argv.slice(2);
if (!truth || !prep) throw new Error('usage: lms-cmp.ts <truth subject> <prepared subject>');
const ids = (split: string) => (JSON.parse(readFileSync(join(truth, `transforms_${split}.json`), 'utf8')).frames as { img_id: number }[]).map((f) => f.img_id);
const lms = (dir: string, id: number) => {
  const v = readFileSync(join(dir, 'ori_imgs', `${id}.lms`), 'utf8').trim().split(/\s+/).map(Number);
  if (v.length !== 136 || v.some((x) => !Number.isFinite(x))) throw new Error(`${dir} frame ${id}: expected 68 x 2 numbers`);
  return v;
};
for (const [label, frames] of [['all', [...ids('train'), ...ids('val')]], ['held out', ids('val')]] as const) {
  const acc = { mouth: 0, all: 0, mouthWorst: 0, n: 0 };
  for (const id of frames) {
    if (!existsSync(join(prep, 'ori_imgs', `${id}.lms`))) continue;
    const t = lms(truth, id), p = lms(prep, id);
    const fw = Math.hypot(t[32] - t[0], t[33] - t[1]);
    const err = (k: number) => Math.hypot(t[k * 2] - p[k * 2], t[k * 2 + 1] - p[k * 2 + 1]) / fw;
    let m = 0, a = 0;
    for (let k = 0; k < 68; k++) { const e = err(k); a += e / 68; if (k >= 48) { m += e / 20; acc.mouthWorst = Math.max(acc.mouthWorst, e); } }
    acc.mouth += m; acc.all += a; acc.n++;
  }
  const pc = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`${label} (${acc.n} frames): mouth mean ${pc(acc.mouth / acc.n)}, worst ${pc(acc.mouthWorst)}; all 68 mean ${pc(acc.all / acc.n)} of the face width`);
}
