/**
 * The NeRF training loop end to end on the CPU backend and a small analytic subject read
 * through the real subject reader: held-out PSNR (whole frame and mouth) rises clearly within a
 * bounded number of steps, the trained mouth opens where the landmarks say, and an interrupted run resumed from
 * its checkpoint ends bit-identical to an uninterrupted one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { trainNerf, type NerfTrainOptions } from '../../trainer/nerf/loop.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { LandmarkConditioner, computeFilm } from '../../worker/model/conditioning.ts';
import { mouthBox } from '../../worker/metrics/mouth.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { opening, writeAnalyticSubject } from '../helpers/nerf-subject.ts';
import { memoryIo } from '../helpers/train-io.ts';

let data: TrainingData;

beforeAll(async () => {
  const files = await writeAnalyticSubject({ size: 32, frames: 30 });
  data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
});

const base: NerfTrainOptions = { preset: 'tiny', stages: ['head'], rays: 256, seed: 1, eyeInput: true, progressive: false, evalEvery: 0, evalFrames: 3, checkpointEvery: 0, resume: false };

describe('NeRF trainer (CPU backend, tiny preset)', () => {
  it('raises held-out PSNR clearly in 400 steps, the mouth follows the landmarks, and the .r2t plays in the renderer', async () => {
    const io = memoryIo();
    const res = await trainNerf(new CpuTrainerBackend(), data, { ...base, iters: 400, evalEvery: 200 }, io);
    if (process.env.NERF_VERBOSE) console.log(JSON.stringify(res.history));
    const first = res.history[0];
    const last = res.history[res.history.length - 1];
    expect(first.step).toBe(0);
    expect(last.step).toBe(400);
    expect(last.psnr - first.psnr).toBeGreaterThan(6);
    expect(last.psnr).toBeGreaterThan(23);
    expect(last.mouthPsnr - first.mouthPsnr).toBeGreaterThan(4);
    expect(res.metrics.head_psnr).toBeCloseTo(last.psnr, 2);

    // The .r2t reads back and plays with the engine's renderer; provenance says how it was made.
    const avatar = await readAvatar(io.avatars.get('head')!);
    expect(avatar.provenance.source).toBe('trainer');
    expect(avatar.provenance.preset).toBe('tiny');
    expect(avatar.provenance.head_steps).toBe(400);
    const weights = loadModelWeights(avatar);
    const renderer = new CpuRenderer(weights, avatar.camera);
    const image = renderer.render({ film1: new Float32Array(2 * avatar.config.head.hiddenDim), film2: new Float32Array(2 * avatar.config.head.hiddenDim), pose: data.train.split.frames[0].pose, eye: 0.25 }).image;
    expect(image.every(Number.isFinite)).toBe(true);
    // The mouth opens where the landmarks say: a held-out frame with a closed mouth, rendered
    // with the landmarks of the held-out frame with the widest opening, darkens in the mouth box
    // (the subject's open mouth is dark) by a clear part of what the ground truth shows between
    // the two frames. Measured 0.52 (0.03 with the reference's network learning rate).
    const val = data.val!.split.frames;
    const closedAt = val.findIndex((f) => opening(f.imgId) === 0);
    const openAt = val.reduce((best, f, i) => (opening(f.imgId) > opening(val[best].imgId) ? i : best), 0);
    expect(opening(val[openAt].imgId)).toBeGreaterThan(0.5);
    const stats = data.splitData('val').stats;
    const conditioner = new LandmarkConditioner(weights, { mean: stats.mean, std: stats.std });
    const W = data.width;
    const box = mouthBox(val[closedAt].lms, W, data.height, 0);
    const boxLuma = (img: Float32Array) => {
      let sum = 0;
      let n = 0;
      for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++, n++) for (let k = 0; k < 3; k++) sum += img[3 * (y * W + x) + k];
      return sum / (3 * n);
    };
    const renderWith = (landmarksOf: number) => {
      conditioner.reset();
      const film = computeFilm(weights, conditioner.code(data.points('val', landmarksOf, avatar.config.condition.window)));
      return boxLuma(renderer.render({ film1: film.film1, film2: film.film2, pose: val[closedAt].pose, eye: 0.25 }).image);
    };
    const gtDrop = boxLuma((await data.images('val', closedAt)).image) - boxLuma((await data.images('val', openAt)).image);
    const drop = renderWith(closedAt) - renderWith(openAt);
    if (process.env.NERF_VERBOSE) console.log('mouth box darkening', { drop, gtDrop });
    expect(gtDrop).toBeGreaterThan(0.05);
    expect(drop / gtDrop).toBeGreaterThan(0.3);
  });

  it('resumes after an interruption and ends bit-identical to an uninterrupted run', async () => {
    const opts = { ...base, iters: 40, rays: 96, checkpointEvery: 0 };
    const straight = memoryIo();
    await trainNerf(new CpuTrainerBackend(), data, opts, straight);

    const broken = memoryIo();
    const ctrl = new AbortController();
    const err = await trainNerf(new CpuTrainerBackend(), data, { ...opts, signal: ctrl.signal, onProgress: (p) => p.step === 23 && ctrl.abort() }, broken).catch((e) => e);
    expect(err).toBeInstanceOf(R2TalkerError);
    expect((err as R2TalkerError).code).toBe('ABORTED');
    expect(broken.avatars.size).toBe(0); // no .r2t before the stage completes
    expect(broken.checkpoint).not.toBeNull();

    await trainNerf(new CpuTrainerBackend(), data, { ...opts, resume: true }, broken);
    expect(Buffer.from(broken.avatars.get('head')!).equals(Buffer.from(straight.avatars.get('head')!))).toBe(true);
    expect(Buffer.from(broken.checkpoint!).equals(Buffer.from(straight.checkpoint!))).toBe(true);
  });

  it('refuses to resume with other settings, and to run the lips stage before the head', async () => {
    const io = memoryIo();
    const ctrl = new AbortController();
    await trainNerf(new CpuTrainerBackend(), data, { ...base, iters: 10, rays: 32, signal: ctrl.signal, onProgress: (p) => p.step === 2 && ctrl.abort() }, io).catch(() => {});
    await expect(trainNerf(new CpuTrainerBackend(), data, { ...base, iters: 10, rays: 32, seed: 2, resume: true }, io)).rejects.toThrow(/other settings/);
    await expect(trainNerf(new CpuTrainerBackend(), data, { ...base, stages: ['lips'], iters: 10, rays: 32 }, memoryIo())).rejects.toThrow(/head stage must be trained first/);
  });
});
