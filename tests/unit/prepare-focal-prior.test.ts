/**
 * A talking head that barely turns (+-4 degrees) cannot show its camera's focal length: the
 * perspective change that separates a near wide lens from a far narrow one is below what the
 * landmarks and pixels resolve, and the landmark bundle adjustment then settles wherever the
 * template's shape error puts it (the training proof's subject: 232 px for a true 691). The
 * pipeline detects this (searchFocalPhotometric: head motion under 12 degrees, or a flat cost)
 * and assumes a typical webcam distance instead (fit-video.ts focalAtDistance), saying so in
 * prepare.json's focalSource and in the warnings the CLI prints.
 * Measured (21:30 UTC, this render): focal +7.1% (the landmark fit's own focal was -3.6% here: on
 * the canonical head it is unbiased; at 65 and 90 cm it was -29% and -48%, i.e. it implies ~48 cm
 * whatever the distance, so at low motion it is no better founded than the stated prior).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { prepareSubject, type PcmAudio, type PrepareReport } from '../../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { astronautHead, renderedVideo } from '../helpers/face-video.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;
const SRC = 256;
// A webcam's ~60 degree horizontal field of view.
const FOCAL = SRC / 2 / Math.tan(30 * DEG);
// A laptop webcam's distance, not the pipeline's assumed 50 cm (the prior is 11% off here).
const DISTANCE_CM = 45;
const FRAMES = 40;
const SIZE = 128;

/** Yaw +-4, pitch +-2, roll +-1.5 degrees and a little sway: a person talking to the camera. */
function stillPose(i: number): HeadPose {
  const s = (2 * Math.PI * i) / FRAMES;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, 4 * Math.sin(s) * DEG, 0]), mat3Mul(rodrigues([2 * Math.sin(2 * s + 1) * DEG, 0, 0]), rodrigues([0, 0, 1.5 * Math.sin(s + 2) * DEG]))));
  return { R, t: [Math.sin(s), -1.5 + 0.5 * Math.cos(s), DISTANCE_CM + Math.sin(s)] };
}

function speech(seconds: number, rate = 16000): PcmAudio {
  return { samples: Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + Math.sin(i / 900))), sampleRate: rate };
}

describe('focal of a low-motion video', () => {
  let report: PrepareReport;
  beforeAll(async () => {
    const models = await loadFaceModels(nodeFaceModelSource);
    const video = renderedVideo(astronautHead(models), { frames: FRAMES, width: SRC, height: SRC, focal: FOCAL, pose: stillPose });
    report = await prepareSubject(video, speech(FRAMES / 25), new MemorySubjectSink(new MemorySubjectFiles()), nodeImageCodec, models, { size: SIZE, minSeconds: 1, valSeconds: 0.4 });
  }, 300_000);

  it('says the focal was not observable and assumes a typical camera distance', () => {
    const sourceFocal = (report.focal * report.crop.side) / SIZE;
    const landmarkFocal = ((report.focalSource.landmarkFocal ?? NaN) * report.crop.side) / SIZE;
    console.log(`low motion: focal ${sourceFocal.toFixed(1)} px (true ${FOCAL.toFixed(1)}, ${((sourceFocal / FOCAL - 1) * 100).toFixed(1)}%), landmark focal ${landmarkFocal.toFixed(1)} (${((landmarkFocal / FOCAL - 1) * 100).toFixed(1)}%), ${JSON.stringify(report.focalSource)}`);
    expect(report.focalSource.method).toBe('distance');
    expect(report.focalSource.reason).toMatch(/head turns [\d.]+ deg at most/);
    expect(report.focalSource.motionDeg).toBeLessThan(12);
    expect(report.warnings.some((w) => /focal length could not be measured .*assumed the face 50 cm from the camera/.test(w))).toBe(true);
    expect(Math.abs(sourceFocal - FOCAL) / FOCAL).toBeLessThan(0.15);
  });
});
