/**
 * A prepared subject's eye_ratio against the ground truth's, as prepare wrote it and steadied
 * (worker/face/eye-steady.ts), and optionally a copy of the subject with the steadied values, to
 * train (ablation of the eye value alone on a subject written before the steadying).
 * Usage: npx tsx bench/pose/eye-steady.ts <truth dir> <prepared dir> [<copy out dir>]
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { steadyEyeRatio } from '../../worker/face/eye-steady.ts';

interface Frame { img_id: number; eye_ratio: number }
const [truthDir, prepDir, outDir] = process.argv.slice(2);
if (!truthDir || !prepDir) throw new Error('usage: eye-steady.ts <truth dir> <prepared dir> [<copy out dir>]');
const read = (d: string, split: string): { frames: Frame[] } => JSON.parse(readFileSync(`${d}/transforms_${split}.json`, 'utf8'));
const all = (d: string): Frame[] => [...read(d, 'train').frames, ...read(d, 'val').frames].sort((a, b) => a.img_id - b.img_id);
const t = all(truthDir);
const p = all(prepDir);
if (t.map((f) => f.img_id).join() !== p.map((f) => f.img_id).join()) throw new Error('the two subjects hold different frames');
const s = steadyEyeRatio(p.map((f) => f.eye_ratio));
const fit = (y: number[], x: number[]) => {
  const n = y.length;
  const mx = x.reduce((a, b) => a + b) / n;
  const my = y.reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return { r: sxy / Math.sqrt(sxx * syy), slope: sxy / sxx, rms: Math.sqrt(Math.max(0, syy - (sxy * sxy) / sxx) / n) };
};
const tv = t.map((f) => f.eye_ratio);
const openT = tv.reduce((a, b) => Math.max(a, b));
const isOpen = tv.map((v) => v > 0.98 * openT);
const sd = (v: number[]) => { const m = v.reduce((a, b) => a + b) / v.length; return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length); };
for (const [name, v] of [['prepare', p.map((f) => f.eye_ratio)], ['steadied', Array.from(s.values)]] as const) {
  const f = fit(v as number[], tv);
  const open = (v as number[]).filter((_, i) => isOpen[i]);
  console.log(`${name.padEnd(9)} vs truth: r ${f.r.toFixed(4)}, slope ${f.slope.toFixed(3)}, residual rms ${f.rms.toFixed(4)}; open-eye frames (truth within 2% of its open level, ${open.length}): sd ${sd(open).toFixed(4)} (truth ${sd(tv.filter((_, i) => isOpen[i])).toFixed(4)})`);
}
console.log(`steadied: open level ${s.open.toFixed(4)}, noise ${s.noise.toFixed(4)}, ${s.blinks} blinks over ${s.blinkFrames} frames; truth: ${tv.filter((_, i) => !isOpen[i]).length} frames below open`);
const missed = tv.map((v, i) => (!isOpen[i] && v < 0.8 * openT && s.values[i] === s.open ? i : -1)).filter((i) => i >= 0);
console.log(`truth's frames under 80% open that the steadied values hold open: ${missed.length ? missed.join(',') : 'none'}`);
if (outDir) {
  cpSync(prepDir, outDir, { recursive: true });
  const byId = new Map(p.map((f, i) => [f.img_id, s.values[i]]));
  for (const split of ['train', 'val']) {
    const j = JSON.parse(readFileSync(`${outDir}/transforms_${split}.json`, 'utf8'));
    for (const f of j.frames) f.eye_ratio = byId.get(f.img_id);
    writeFileSync(`${outDir}/transforms_${split}.json`, JSON.stringify(j, null, 1));
  }
  console.log(`wrote ${outDir}`);
}
