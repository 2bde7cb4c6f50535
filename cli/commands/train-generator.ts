/**
 * `r2talker train-generator --audio <aud.wav> --landmarks <lm.npy> --avatar <a.r2t>` (or
 * `--data <subject dir>`, what the create page trains on): trains a person-specific generator on
 * the subject's own (audio, landmark track) pairs and embeds it in the avatar (as
 * generator.onnx), with a progress bar.
 */
import type { Command } from 'commander';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { avatarLandmarkMap } from '../../worker/model/landmark-map.ts';
import { subjectPairs, trackFromNpy } from '../../trainer/generator-pairs.ts';
import { trainedGeneratorOnnx } from '../../trainer/generator-resume.ts';
import { trainGenerator, type TrainingPair } from '../../trainer/train-generator.ts';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { readInputFile, writeFileAtomic } from '../files.ts';
import { progressBar } from '../progress.ts';
import { loadAvatarFile } from './landmarks.ts';

function intOption(name: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

/** The training pairs: a subject folder's (the create page's subjectPairs), or one wav with its track. */
async function cliPairs(opts: TrainCliOptions): Promise<TrainingPair[]> {
  if (opts.data !== undefined) {
    if (opts.audio !== undefined || opts.landmarks !== undefined) throw new ConfigError('--data: give either --data or --audio with --landmarks, not both');
    const files = folderFiles(opts.data);
    return subjectPairs(files, await openSubject(files, nodeImageCodec, { check: 'headers' }));
  }
  if (opts.audio === undefined || opts.landmarks === undefined) throw new ConfigError('train-generator: expected --data <subject dir>, or --audio <wav> with --landmarks <npy>');
  const wav = readWav(await readInputFile(opts.audio, 'audio'));
  const track = trackFromNpy(await readInputFile(opts.landmarks, 'landmarks'));
  return [{ pcm: wav.samples, sampleRate: wav.sampleRate, landmarks: track.landmarks, frames: track.frames }];
}

interface TrainCliOptions {
  audio?: string;
  landmarks?: string;
  data?: string;
  avatar: string;
  out?: string;
  epochs: string;
  channels: string;
  seed: string;
  progress?: boolean;
}

export function register(program: Command): void {
  program
    .command('train-generator')
    .description("train a person-specific audio-to-landmark generator and embed it in the avatar")
    .option('--audio <wav>', "the subject's speech (.wav), aligned with the landmark track")
    .option('--landmarks <npy>', 'landmark track [T,68,3] at 25 fps (.npy)')
    .option('--data <dir>', 'a prepared subject instead of --audio and --landmarks (its aud.wav and landmark track; what the create page trains on)')
    .requiredOption('--avatar <file>', 'avatar (.r2t) to embed the generator in')
    .option('--out <file>', 'write the avatar here instead of replacing --avatar')
    .option('--epochs <n>', 'passes over the training frames', '20')
    .option('--channels <n>', 'hidden channels of the model', '128')
    .option('--seed <n>', 'initialisation and shuffling seed', '1')
    .option('--progress', 'force the progress bar when stderr is not a terminal')
    .action(async (opts: TrainCliOptions) => {
      const epochs = intOption('--epochs', opts.epochs, 1, 10_000);
      const channels = intOption('--channels', opts.channels, 1, 512);
      const seed = intOption('--seed', opts.seed, 0, 2 ** 31 - 1);
      const pairs = await cliPairs(opts);
      const frames = pairs.reduce((a, p) => a + p.frames, 0);
      const avatar = await loadAvatarFile(opts.avatar);
      // An avatar trained through a landmark map (`train --prior`): the generator, trained on the
      // person's own track, goes through the same map.
      const map = avatarLandmarkMap(avatar);
      const bar = progressBar('training', { enabled: opts.progress || undefined });
      let result;
      try {
        result = trainGenerator(pairs, {
          epochs,
          channels,
          seed,
          space: 'avatar',
          onProgress: (p) => bar.update(p.step, p.steps, `epoch ${p.epoch + 1}/${p.epochs} loss ${p.loss.toFixed(4)}`),
        });
      } finally {
        bar.stop();
      }
      const onnx = trainedGeneratorOnnx(result, frames, epochs, map);
      const out = opts.out ?? opts.avatar;
      await writeFileAtomic(out, writeAvatar({ ...avatar, generator: onnx }));
      process.stdout.write(
        `embedded a ${onnx.length}-byte generator in ${out}: ${result.steps} steps, train loss ${result.trainLoss.toFixed(4)}, ` +
          `validation loss ${result.validationLoss === null ? 'n/a' : result.validationLoss.toFixed(4)}\n`,
      );
    });
}
