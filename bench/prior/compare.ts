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
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import type { TrainIo } from '../../trainer/nerf/loop.ts';
import { mouthDarkening } from '../../tests/helpers/mouth-darkening.ts';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) throw new Error('usage: compare.ts <subject> [--iters N] [--rays N] [--seed N]');
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const subject = await TrainingData.open(await openSubject(folderFiles(dir), nodeImageCodec));
const builtin = await loadBuiltinAvatar();


const base: NerfTrainOptions = { preset: 'tiny', stages: ['head'], iters: opt('--iters', 2000), rays: opt('--rays', 512), seed: opt('--seed', 1), eyeInput: true, progressive: false, evalEvery: 1_000_000, evalFrames: 4, checkpointEvery: 0, resume: false };
for (const prior of [undefined, builtin]) {
  let avatar: Uint8Array | null = null;
  const io: TrainIo = { readCheckpoint: async () => null, writeCheckpoint: async () => {}, writeAvatar: async (b) => void (avatar = b) };
  const t0 = Date.now();
  const s = await trainNerf(new CpuTrainerBackend(), subject, { ...base, prior }, io);
  const h = s.history;
  const d = mouthDarkening(subject, await readAvatar(avatar!)).levels;
  console.log(`${prior ? 'from the built-in' : 'from random'}: ${base.iters} head steps, ${base.rays} rays, ${((Date.now() - t0) / 1000).toFixed(0)} s; held-out head PSNR ${h[0].psnr.toFixed(2)} -> ${h.at(-1)!.psnr.toFixed(2)} dB; mouth darkening ${d.toFixed(2)} /255`);
}
