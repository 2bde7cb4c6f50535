/**
 * The synthetic person is a face to a real face tracker: MediaPipe's face mesh (the model
 * `prepare` uses) finds it, and the iBUG-68 points it reports agree with the generator's
 * ground truth. This checks the generator's landmark placement against an independent model,
 * and that `prepare` can be tested end to end on synthetic video.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../helpers/temp-dirs.ts';
import { FaceTracker, loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { meshToIbug68 } from '../../worker/face/ibug68.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { writeSynthSubject } from '../helpers/synth-fixture.ts';

const SIZE = 128;
let dir: string;
let models: FaceModels;

afterAll(removeTempDirs);

beforeAll(async () => {
  [dir, models] = await Promise.all([writeSynthSubject({ size: SIZE, frames: 12, seed: 2 }), loadFaceModels(nodeFaceModelSource)]);
}, 240_000);

describe('a synthetic subject seen by the face-mesh tracker', () => {
  it('is detected on every frame, with landmarks within 2.5% of the image of the ground truth (mouth within 1.5%)', () => {
    const gt = readNpy(new Uint8Array(readFileSync(join(dir, 'ground_truth/landmarks_2d.npy')))).data as Float32Array;
    const tracker = new FaceTracker(models);
    for (let k = 0; k < 12; k += 3) {
      const img = nodeImageCodec.decode(new Uint8Array(readFileSync(join(dir, `ori_imgs/${k}.jpg`))), `ori_imgs/${k}.jpg`);
      const r = tracker.track({ width: img.width, height: img.height, rgb: img.data });
      expect(r.mesh, `frame ${k}`).not.toBeNull();
      const lms = meshToIbug68(r.mesh!.points, 2);
      let all = 0;
      let mouth = 0;
      for (let i = 0; i < 68; i++) {
        const e = Math.hypot(lms[i * 2] - gt[k * 136 + i * 2], lms[i * 2 + 1] - gt[k * 136 + i * 2 + 1]);
        all += e / 68;
        if (i >= 48) mouth += e / 20;
      }
      expect(all, `frame ${k} mean error (px)`).toBeLessThan(0.025 * SIZE);
      expect(mouth, `frame ${k} mouth error (px)`).toBeLessThan(0.015 * SIZE);
    }
  });
});
