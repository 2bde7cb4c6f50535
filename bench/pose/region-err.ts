/**
 * Where a synthetic subject's held-out renders lose: PSNR per ground-truth class (the synthetic
 * head's own labels: background, skin, neck, torso, hair, lips, mouth, eye) of each set of renders
 * against the truth's gt_imgs, and each set's extra squared error over the first set's, split by
 * class (the share of the extra error each class carries).
 * Renders: `r2talker eval --avatar <a.r2t> --data <subject> --split val --out <dir>` (frame_%04d.png
 * in the val split's order).
 * Usage: npx tsx bench/pose/region-err.ts <truth subject> <renders of the reference> <renders>...
 */
import { readFileSync } from 'node:fs';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';

const [truth, ...sets] = process.argv.slice(2);
if (!truth || sets.length < 1) throw new Error('usage: region-err.ts <truth subject> <renders dir>...');
const meta = JSON.parse(readFileSync(`${truth}/ground_truth/meta.json`, 'utf8')) as { size: number; classes: Record<string, number> };
const labels = readNpy(readFileSync(`${truth}/ground_truth/labels.npy`), 2 ** 31);
const ids = (JSON.parse(readFileSync(`${truth}/transforms_val.json`, 'utf8')) as { frames: { img_id: number }[] }).frames.map((f) => f.img_id);
const names = Object.entries(meta.classes).sort((a, b) => a[1] - b[1]).map(([n]) => n);
const px = meta.size * meta.size;
const count = new Float64Array(names.length);
const sse = sets.map(() => new Float64Array(names.length));
ids.forEach((id, j) => {
  const gt = decodeImage(readFileSync(`${truth}/gt_imgs/${id}.jpg`)).rgb;
  const lab = (labels.data as Uint8Array).subarray(id * px, (id + 1) * px);
  for (let i = 0; i < px; i++) count[lab[i]] += 3;
  sets.forEach((d, s) => {
    const img = decodeImage(readFileSync(`${d}/frame_${String(j).padStart(4, '0')}.png`)).rgb;
    for (let i = 0; i < px; i++) for (let c = 0; c < 3; c++) sse[s][lab[i]] += ((img[i * 3 + c] - gt[i * 3 + c]) / 255) ** 2;
  });
});
const psnr = (e: number, n: number) => (n > 0 ? -10 * Math.log10(e / n) : NaN);
const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
console.log(`${ids.length} held-out frames; class (share of pixels): PSNR per set`);
names.forEach((n, k) => console.log(`  ${n.padEnd(10)} (${((count[k] / 3 / (ids.length * px)) * 100).toFixed(1).padStart(4)}%): ${sse.map((e) => psnr(e[k], count[k]).toFixed(2)).join(' / ')}`));
console.log(`  ${'all'.padEnd(10)}        : ${sse.map((e) => psnr(total(e), ids.length * px * 3).toFixed(2)).join(' / ')}`);
sets.slice(1).forEach((d, s) => {
  const extra = total(sse[s + 1]) - total(sse[0]);
  console.log(`${d} over ${sets[0]}: extra error ${extra >= 0 ? '+' : ''}${((extra / total(sse[0])) * 100).toFixed(1)}%, by class ${names.map((n, k) => `${n} ${(((sse[s + 1][k] - sse[0][k]) / Math.abs(extra)) * 100).toFixed(0)}%`).join(', ')}`);
});
