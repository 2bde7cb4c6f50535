/** Mask IoU on the photo render (issue 10: "mask IoU >= 0.9" on the photograph's test video): the
 * talking canonical-upper astronaut head over the static background, a neck, shoulders and torso
 * (tests/helpers/face-video.ts backgroundWithNeck), through the whole preparation, against
 * renderTruthLabels; per class IoU, the confusion matrix and, per frame, the neck's errors.
 * NECK=0: the plain torso with no neck (the gap under the chin is background in the truth).
 * Run: [N=30] [SRC=512] [SIZE=256] [NECK=0] [ERRF=frame DUMP=1] npx tsx bench/pose/mask-photo-lab.ts
 * (DUMP writes /tmp/mpl-err.png: frame ERRF's errors, red background->neck, green neck->background,
 * blue the rest; and frame 0's ori/parsing). tests/unit/prepare-masks.test.ts asserts it. */
import { writeFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { prepareSubject, type FrameSource } from '../../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels } from '../../worker/subject/layout.ts';
import { renderHead } from '../../tests/helpers/face-render.ts';
import { ClassIoU } from '../../tests/helpers/mask-iou.ts';
import { articulatedHead, backgroundWithNeck, backgroundWithTorso, gentlePose, renderTruthLabels, talkingState } from '../../tests/helpers/face-video.ts';

const N = Number(process.env.N ?? 30), SRC = Number(process.env.SRC ?? 512), SIZE = Number(process.env.SIZE ?? 256), FOCAL = SRC;
const models = await loadFaceModels(nodeFaceModelSource);
const art = articulatedHead(models, 'canonical-upper');
const scene = process.env.NECK === '0' ? { frame: backgroundWithTorso(SRC, SRC), neck: new Uint8Array(SRC * SRC) } : backgroundWithNeck(SRC, SRC, art.head, gentlePose(0), FOCAL);
const headAt = (i: number) => art.frame(talkingState(i));
const video: FrameSource = { count: N, fps: 25, read: (i) => Promise.resolve(renderHead(headAt(i), gentlePose(i), FOCAL, scene.frame)) };
const speech = { samples: Float32Array.from({ length: Math.round((N / 25) * 16000) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) * (1 + Math.sin(i / 900))), sampleRate: 16000 };
const target = new MemorySubjectFiles();
const report = await prepareSubject(video, speech, new MemorySubjectSink(target), nodeImageCodec, models, { size: SIZE, minSeconds: 0.5, valSeconds: 0.2 });
const { x, y, side } = report.crop;
const names = ['background', 'head', 'neck', 'torso'];
const acc = new ClassIoU();
const confusion = Array.from({ length: 4 }, () => [0, 0, 0, 0, 0]);
const errImg = new Uint8Array(SIZE * SIZE * 3);
const perFrame: string[] = [];
for (let k = 0; k < N; k++) {
  const png = target.files.get(`parsing/${k}.png`);
  if (!png) continue;
  const pred = parsingLabels(nodeImageCodec.decode(png, `parsing/${k}.png`).data, 3);
  const truth = renderTruthLabels(headAt(k), gentlePose(k), FOCAL, scene);
  const before = confusion.map((r) => [...r]);
  for (let v = 0; v < SIZE; v++) for (let u = 0; u < SIZE; u++) {
    const sx = Math.min(SRC - 1, Math.floor(x + ((u + 0.5) * side) / SIZE)), sy = Math.min(SRC - 1, Math.floor(y + ((v + 0.5) * side) / SIZE));
    const t = truth[sy * SRC + sx], p = pred[v * SIZE + u];
    acc.add(t, p);
    confusion[t][p === 255 ? 4 : p]++;
    if (k === Number(process.env.ERRF ?? 0)) errImg.set(t === p ? [t * 60, t * 60, t * 60] : t === 0 && p === 2 ? [255, 0, 0] : t === 2 && p === 0 ? [0, 255, 0] : [0, 0, 255], (v * SIZE + u) * 3);
  }
  perFrame.push(`${k}:${confusion[0][2] - before[0][2]}/${confusion[2][0] - before[2][0]}/${confusion[1][2] - before[1][2]}`);
}
console.log(`frames kept ${report.frames.kept}/${N}, crop ${side.toFixed(0)} px; IoU ${acc} (union px ${acc.unions.join(' / ')})`);
console.log('per frame background->neck / neck->background / head->neck: ' + perFrame.join(' '));
console.log('confusion (rows truth, columns prepared: background head neck torso other)\n' + confusion.map((r, t) => `  ${names[t]}: ${r.join(' ')}`).join('\n'));
if (process.env.DUMP) {
  writeFileSync('/tmp/mpl-err.png', nodeImageCodec.encodePng({ width: SIZE, height: SIZE, channels: 3, data: errImg }));
  for (const name of ['parsing/0.png', 'ori_imgs/0.jpg']) { const f = target.files.get(name); if (f) writeFileSync(`/tmp/mpl-${name.replace('/', '-')}`, f); }
}
