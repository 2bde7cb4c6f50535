/**
 * Masks against ground truth: the synthetic subject (worker/synth: a procedural person, no real
 * face, with per-pixel classes) goes through the whole preparation from its raw frames and
 * speech; the parsing it writes is compared, class by class, with the generator's labels
 * mapped into prepare's own crop. Issue 10 asks IoU >= 0.9. Measured (seed 3, 256 px):
 * background 0.995, head 0.986, neck 0.971, torso 0.994 (the neck was 0.836 while it was a
 * band under the chin: the band took the shirt beside the neck where the collar rises; it is
 * now grown from the pure-neck rows by colour, skin against clothes. It was 0.858 once the
 * subject's jaw opened as wide as speech does, while the chin ended on a horizontal line at the
 * tracked landmark 8, which lags the jaw by up to 2.6 px; the chin now ends at the colour edge
 * found near the tracked jaw line. Seeds 1, 5, 8: neck 0.945, 0.946, 0.954, was 0.83 +- 0.01).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { frameDirectory } from '../../worker/prepare/frame-dir.node.ts';
import { prepareSubject, type FrameSource, type PrepareReport } from '../../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels, PARSING_LABEL } from '../../worker/subject/layout.ts';
import { GT_CLASS } from '../../worker/synth/paint.ts';
import { renderHead } from '../helpers/face-render.ts';
import { articulatedHead, backgroundWithNeck, gentlePose, renderTruthLabels, talkingState } from '../helpers/face-video.ts';
import { ClassIoU } from '../helpers/mask-iou.ts';
import { writeSynthSubject } from '../helpers/synth-fixture.ts';

const SIZE = 256;
const N = 25;

function truthClass(l: number): number {
  if (l === GT_CLASS.background) return PARSING_LABEL.background;
  if (l === GT_CLASS.neck) return PARSING_LABEL.neck;
  if (l === GT_CLASS.torso) return PARSING_LABEL.torso;
  return PARSING_LABEL.head; // skin, hair, lips, mouth, eyes
}

/** Issue 10's bound (0.9) on every class, tighter where the class is large and easy. */
function meetsTargets(iou: number[]): void {
  expect(iou[PARSING_LABEL.background]).toBeGreaterThanOrEqual(0.95);
  expect(iou[PARSING_LABEL.head]).toBeGreaterThanOrEqual(0.93);
  expect(iou[PARSING_LABEL.neck]).toBeGreaterThanOrEqual(0.9);
  expect(iou[PARSING_LABEL.torso]).toBeGreaterThanOrEqual(0.95);
}

describe('prepared masks vs the synthetic subject\'s ground truth', () => {
  let iou: number[];
  let report: PrepareReport;

  beforeAll(async () => {
    const dir = await writeSynthSubject({ size: SIZE, frames: N, seed: 3 }, undefined, 2);
    const models = await loadFaceModels(nodeFaceModelSource);
    const wav = readWav(new Uint8Array(readFileSync(join(dir, 'aud.wav'))));
    const target = new MemorySubjectFiles();
    report = await prepareSubject(await frameDirectory(join(dir, 'ori_imgs'), 25), { samples: wav.samples, sampleRate: wav.sampleRate }, new MemorySubjectSink(target), nodeImageCodec, models, { size: SIZE, minSeconds: 0.5 });
    const labels = readNpy(new Uint8Array(readFileSync(join(dir, 'ground_truth/labels.npy')))).data as Uint8Array;
    const acc = new ClassIoU();
    for (let k = 0; k < N; k++) {
      const png = target.files.get(`parsing/${k}.png`);
      if (!png) continue;
      // The synthetic frame is the output size; the crop maps each output pixel's centre back into it.
      acc.addCropped(parsingLabels(nodeImageCodec.decode(png, `parsing/${k}.png`).data, 3), SIZE, report.crop, { width: SIZE, height: SIZE }, (x, y) => truthClass(labels[k * SIZE * SIZE + y * SIZE + x]));
    }
    iou = acc.iou;
    console.log(`mask IoU: ${acc}`);
  }, 240_000);

  it('keeps every frame', () => {
    expect(report.frames.kept).toBe(N);
  });

  it('meets IoU >= 0.9 for every class', () => meetsTargets(iou));
});

/**
 * Masks on the photograph's test video (issue 10: mask IoU >= 0.9): the talking, blinking
 * `canonical-upper` astronaut head (the head whose focal, rotations and mouth face-video-fit.test.ts
 * checks) over a static background with a neck, shoulders and torso, through the whole
 * preparation; the parsing it writes against the render's own truth (tests/helpers/face-video.ts
 * renderTruthLabels), class by class, in prepare's crop. The synthetic person's masks are checked
 * above. Without a neck under the floating face, the segmentation joins head
 * and torso through the background anyway (neck IoU 0, torso 0.859: bench/pose/mask-photo-lab.ts
 * NECK=0), so the render has one (docs/prepare.md "Masks on the photograph's video").
 */
const SRC = 512;
const FOCAL = SRC;
const PHOTO_SIZE = 256;
const PHOTO_FRAMES = 30;

describe('prepared masks on the photograph\'s test video', () => {
  let iou: number[];
  let report: PrepareReport;

  beforeAll(async () => {
    const models = await loadFaceModels(nodeFaceModelSource);
    const art = articulatedHead(models, 'canonical-upper');
    const scene = backgroundWithNeck(SRC, SRC, art.head, gentlePose(0), FOCAL);
    const headAt = (i: number) => art.frame(talkingState(i));
    const video: FrameSource = { count: PHOTO_FRAMES, fps: 25, read: (i) => Promise.resolve(renderHead(headAt(i), gentlePose(i), FOCAL, scene.frame)) };
    const rate = 16000;
    const speech = { samples: Float32Array.from({ length: Math.round((PHOTO_FRAMES / 25) * rate) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + Math.sin(i / 900))), sampleRate: rate };
    const target = new MemorySubjectFiles();
    report = await prepareSubject(video, speech, new MemorySubjectSink(target), nodeImageCodec, models, { size: PHOTO_SIZE, minSeconds: 0.5, valSeconds: 0.2 });
    const acc = new ClassIoU();
    for (let k = 0; k < PHOTO_FRAMES; k++) {
      const png = target.files.get(`parsing/${k}.png`);
      if (!png) continue;
      const truth = renderTruthLabels(headAt(k), gentlePose(k), FOCAL, scene);
      acc.addCropped(parsingLabels(nodeImageCodec.decode(png, `parsing/${k}.png`).data, 3), PHOTO_SIZE, report.crop, { width: SRC, height: SRC }, (x, y) => truth[y * SRC + x]);
    }
    iou = acc.iou;
    console.log(`mask IoU on the photograph's video: ${acc}`);
  }, 240_000);

  it('keeps every frame', () => {
    expect(report.frames.kept).toBe(PHOTO_FRAMES);
  });

  // Measured: background 0.993, head 0.974, neck 0.922, torso 0.993 (at --size 512: 0.993 / 0.974 /
  // 0.899 / 0.991, the neck's edge a larger share of its pixels).
  it('meets IoU >= 0.9 for every class', () => meetsTargets(iou));
});
