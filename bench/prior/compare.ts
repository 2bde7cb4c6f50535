/**
 * Head stage from random weights against from the built-in avatar (`--prior builtin`: landmark
 * map, the prior's occupancy, the rate ramp) on one prepared subject, same seed and budget:
 * held-out head PSNR, and how much the widest-open training frame's landmarks darken the mouth
 * box against the most closed frame's, rendered at the closed frame's pose (CPU reference).
 *
 *   npx tsx bench/prior/compare.ts <subject> [--iters 2000] [--rays 512] [--seed 1]
 * (bench/prior/make-take.ts makes a camera-like take to prepare)
 */
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { trainNerf, type NerfTrainOptions } from '../../trainer/nerf/loop.ts';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { mouthBox } from '../../worker/metrics/mouth.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { avatarLandmarkMap } from '../../worker/model/landmark-map.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import type { TrainIo } from '../../trainer/nerf/loop.ts';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) throw new Error('usage: compare.ts <subject> [--iters N] [--rays N] [--seed N]');
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const subject = await TrainingData.open(await openSubject(folderFiles(dir), nodeImageCodec));
const builtin = await loadBuiltinAvatar();

function mouthDarkening(avatar: Avatar): number {
  const data = avatarLandmarkMap(avatar) ? subject.mappedTo(avatar.landmarkStats!) : subject;
  const frames = data.train.split.frames;
  const gap = (i: number) => data.frame('train', i).lms[66 * 2 + 1] - data.frame('train', i).lms[62 * 2 + 1];
  let closed = 0;
  let open = 0;
  for (let i = 0; i < frames.length; i++) {
    if (gap(i) < gap(closed)) closed = i;
    if (gap(i) > gap(open)) open = i;
  }
  const weights = loadModelWeights(avatar);
  const renderer = new CpuRenderer(weights, avatar.camera);
  const conditioner = new LandmarkConditioner(weights, data.train.stats);
  const W = data.width;
  const box = mouthBox(data.frame('train', open).lms, W, data.height, 0.2);
  const luma = (i: number) => {
    conditioner.reset();
    const film = computeFilm(weights, conditioner.code(data.points('train', i, avatar.config.condition.window)));
    const img = renderer.render({ film1: film.film1, film2: film.film2, pose: frames[closed].pose, eye: 0.25 }).image;
    let sum = 0;
    let n = 0;
    for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++, n++) sum += 0.299 * img[3 * (y * W + x)] + 0.587 * img[3 * (y * W + x) + 1] + 0.114 * img[3 * (y * W + x) + 2];
    return (255 * sum) / n;
  };
  return luma(closed) - luma(open);
}

const base: NerfTrainOptions = { preset: 'tiny', stages: ['head'], iters: opt('--iters', 2000), rays: opt('--rays', 512), seed: opt('--seed', 1), eyeInput: true, progressive: false, evalEvery: 1_000_000, evalFrames: 4, checkpointEvery: 0, resume: false };
for (const prior of [undefined, builtin]) {
  let avatar: Uint8Array | null = null;
  const io: TrainIo = { readCheckpoint: async () => null, writeCheckpoint: async () => {}, writeAvatar: async (b) => void (avatar = b) };
  const t0 = Date.now();
  const s = await trainNerf(new CpuTrainerBackend(), subject, { ...base, prior }, io);
  const h = s.history;
  const d = mouthDarkening(await readAvatar(avatar!));
  console.log(`${prior ? 'from the built-in' : 'from random'}: ${base.iters} head steps, ${base.rays} rays, ${((Date.now() - t0) / 1000).toFixed(0)} s; held-out head PSNR ${h[0].psnr.toFixed(2)} -> ${h.at(-1)!.psnr.toFixed(2)} dB; mouth darkening ${d.toFixed(2)} /255`);
}
