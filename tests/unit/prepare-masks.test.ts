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
import { prepareSubject, type PrepareReport } from '../../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels, PARSING_LABEL } from '../../worker/subject/layout.ts';
import { GT_CLASS } from '../../worker/synth/paint.ts';
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
    console.log(`mask IoU: background ${iou[0].toFixed(3)}, head ${iou[1].toFixed(3)}, neck ${iou[2].toFixed(3)}, torso ${iou[3].toFixed(3)}`);
  }, 240_000);

  it('keeps every frame', () => {
    expect(report.frames.kept).toBe(N);
  });

  it('meets IoU >= 0.9 for every class', () => {
    expect(iou[PARSING_LABEL.background]).toBeGreaterThanOrEqual(0.95);
    expect(iou[PARSING_LABEL.head]).toBeGreaterThanOrEqual(0.93);
    expect(iou[PARSING_LABEL.torso]).toBeGreaterThanOrEqual(0.95);
    expect(iou[PARSING_LABEL.neck]).toBeGreaterThanOrEqual(0.9);
  });
});
