/** Per-class IoU of a prepared subject's parsing/ against a ground-truth subject's (same frames,
 * same image plane: the training proof's two subjects, scripts/prepare-training-proof.sh), over
 * every frame both hold, and over the held-out ones alone.
 * Run: npx tsx bench/pose/parsing-iou.ts <truth subject> <prepared subject> */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels } from '../../worker/subject/layout.ts';
import { ClassIoU } from '../../tests/helpers/mask-iou.ts';

const [truth, prep] = process.argv.slice(2);
if (!truth || !prep) throw new Error('usage: parsing-iou.ts <truth subject> <prepared subject>');
const ids = (dir: string, split: string) => (JSON.parse(readFileSync(join(dir, `transforms_${split}.json`), 'utf8')).frames as { img_id: number }[]).map((f) => f.img_id);
for (const [label, frames] of [['all', [...ids(truth, 'train'), ...ids(truth, 'val')]], ['held out', ids(truth, 'val')]] as const) {
  const acc = new ClassIoU();
  let n = 0;
  for (const id of frames) {
    const [a, b] = [truth, prep].map((d) => join(d, 'parsing', `${id}.png`));
    if (!existsSync(a) || !existsSync(b)) continue;
    const [t, p] = [a, b].map((f) => parsingLabels(nodeImageCodec.decode(readFileSync(f), f).data, 3));
    if (t.length !== p.length) throw new Error(`frame ${id}: parsing sizes differ`);
    for (let i = 0; i < t.length; i++) acc.add(t[i], p[i]);
    n++;
  }
  console.log(`${label} (${n} frames): ${acc}`);
}
