/**
 * A prepared subject's bc.jpg and gt_imgs against a synthetic subject's truth (docs/prepare.md,
 * issue 10's training proof): bc on the pixels that are background in some frame (truth's
 * parsing, every 10th frame), and gt_imgs against the truth's gt_imgs (its frames), over all
 * pixels and split by where the pixel lies: truth background more than 2 px from the person
 * ("inner"), within 2 px ("fringe"), person within 2 px of the background ("person edge") and
 * the rest of the person. `bc` of the truth itself against its frames on the same regions is
 * printed with TRUTH=1 (how far the truth's frames are from "the frame with its background
 * replaced by bc", the reference's gt_imgs). Run:
 * npx tsx bench/pose/gt-cmp.ts <truth subject> <prepared subject>
 */
import { readFileSync } from 'node:fs';
import { decodeImage } from '../../worker/io/image.node.ts';

const [truth, prep] = process.argv.slice(2);
const img = (d: string, p: string) => decodeImage(readFileSync(`${d}/${p}`)).rgb;
const tbc = img(truth, 'bc.jpg');
const pbc = img(prep, 'bc.jpg');
const W = Math.round(Math.sqrt(tbc.length / 3));
const n = W * W;
const ids = JSON.parse(readFileSync(`${truth}/transforms_train.json`, 'utf8'))
  .frames.concat(JSON.parse(readFileSync(`${truth}/transforms_val.json`, 'utf8')).frames)
  .map((f: { img_id: number }) => f.img_id)
  .filter((_: number, j: number) => j % 10 === 0);
const regions = ['inner', 'fringe', 'person edge', 'person'] as const;
const acc = new Map<string, [number, number]>([...regions, 'all', 'truth bc: inner', 'truth bc: fringe'].map((k) => [k, [0, 0]]));
const add = (k: string, e: number) => {
  const a = acc.get(k)!;
  a[0] += e;
  a[1]++;
};
const everBg = new Uint8Array(n);
for (const id of ids) {
  const par = img(truth, `parsing/${id}.png`);
  const frame = img(truth, `gt_imgs/${id}.jpg`);
  const gt = img(prep, `gt_imgs/${id}.jpg`);
  const bg = (i: number) => par[i * 3] === 255 && par[i * 3 + 1] === 255 && par[i * 3 + 2] === 255;
  for (let i = 0; i < n; i++) {
    const x = i % W;
    const y = (i - x) / W;
    let near = false;
    for (let dy = -2; dy <= 2 && !near; dy++) {
      for (let dx = -2; dx <= 2 && !near; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < W && yy < W && bg(yy * W + xx) !== bg(i)) near = true;
      }
    }
    if (bg(i)) everBg[i] = 1;
    const region = bg(i) ? (near ? 'fringe' : 'inner') : near ? 'person edge' : 'person';
    for (let c = 0; c < 3; c++) {
      const e = (frame[i * 3 + c] - gt[i * 3 + c]) ** 2;
      add(region, e);
      add('all', e);
      if (bg(i)) add(`truth bc: ${region}`, (frame[i * 3 + c] - tbc[i * 3 + c]) ** 2);
    }
  }
}
let bcSq = 0;
let bcN = 0;
for (let i = 0; i < n; i++) {
  if (!everBg[i]) continue;
  for (let c = 0; c < 3; c++) bcSq += (tbc[i * 3 + c] - pbc[i * 3 + c]) ** 2;
  bcN += 3;
}
const db = (s: number, c: number) => (10 * Math.log10((255 * 255) / (s / c))).toFixed(2);
const total = regions.reduce((s, k) => s + acc.get(k)![0], 0);
console.log(`bc against truth's bc, on pixels background in some frame: ${db(bcSq, bcN)} dB`);
console.log(`gt_imgs against truth's frames: all ${db(...acc.get('all')!)} dB; ` + regions.map((k) => `${k} ${db(...acc.get(k)!)} dB (${Math.round(acc.get(k)![1] / 3 / ids.length)} px/frame, ${Math.round((100 * acc.get(k)![0]) / total)}% of the squared error)`).join('; '));
if (process.env.TRUTH) console.log(`truth's own bc against its frames: inner background ${db(...acc.get('truth bc: inner')!)} dB, fringe ${db(...acc.get('truth bc: fringe')!)} dB`);
