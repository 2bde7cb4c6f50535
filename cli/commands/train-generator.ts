/**
 * `r2talker train-generator --audio <aud.wav> --landmarks <lm.npy> --avatar <a.r2t>`:
 * trains a person-specific generator on the subject's own (audio, landmark track) pair and
 * embeds it in the avatar (as generator.onnx), with a progress bar.
 */
import type { Command } from 'commander';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { LANDMARK_DIM, NUM_LANDMARKS } from '../../worker/landmarks/model.ts';
import { generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { trainGenerator } from '../../trainer/train-generator.ts';
import { readInputFile, writeFileAtomic } from '../files.ts';
import { progressBar } from '../progress.ts';
import { loadAvatarFile } from './landmarks.ts';

/** A landmark track [T,68,3] (or [T,204]) of float32/float64 as float32 rows. */
export function trackFromNpy(bytes: Uint8Array): { frames: number; landmarks: Float32Array } {
  const arr = readNpy(bytes);
  const s = arr.shape;
  const ok = (s.length === 3 && s[1] === NUM_LANDMARKS && s[2] === 3) || (s.length === 2 && s[1] === LANDMARK_DIM);
  if (!ok) throw FormatError.expected('INPUT_FORMAT', 'landmarks.shape', `[T, ${NUM_LANDMARKS}, 3]`, `[${s.join(', ')}]`);
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw FormatError.expected('INPUT_FORMAT', 'landmarks.dtype', 'float32 or float64', arr.dtype);
  const landmarks = Float32Array.from(arr.data as Float32Array | Float64Array);
  for (let i = 0; i < landmarks.length; i++) {
    if (!Number.isFinite(landmarks[i])) throw FormatError.expected('INPUT_FORMAT', `landmarks[${Math.floor(i / LANDMARK_DIM)}]`, 'finite values', String(landmarks[i]));
  }
  return { frames: s[0], landmarks };
}

function intOption(name: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

interface TrainCliOptions {
  audio: string;
  landmarks: string;
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
    .requiredOption('--audio <wav>', "the subject's speech (.wav), aligned with the landmark track")
    .requiredOption('--landmarks <npy>', 'landmark track [T,68,3] at 25 fps (.npy)')
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
      const wav = readWav(await readInputFile(opts.audio, 'audio'));
      const track = trackFromNpy(await readInputFile(opts.landmarks, 'landmarks'));
      const avatar = await loadAvatarFile(opts.avatar);
      const bar = progressBar('training', { enabled: opts.progress || undefined });
      let result;
      try {
        result = trainGenerator([{ pcm: wav.samples, sampleRate: wav.sampleRate, landmarks: track.landmarks, frames: track.frames }], {
          epochs,
          channels,
          seed,
          space: 'avatar',
          onProgress: (p) => bar.update(p.step, p.steps, `epoch ${p.epoch + 1}/${p.epochs} loss ${p.loss.toFixed(4)}`),
        });
      } finally {
        bar.stop();
      }
      const onnx = generatorToOnnx(result.generator, {
        source: 'train-generator',
        frames: String(track.frames),
        epochs: String(epochs),
        trainLoss: result.trainLoss.toFixed(5),
        validationLoss: result.validationLoss === null ? 'none' : result.validationLoss.toFixed(5),
      });
      const out = opts.out ?? opts.avatar;
      await writeFileAtomic(out, writeAvatar({ ...avatar, generator: onnx }));
      process.stdout.write(
        `embedded a ${onnx.length}-byte generator in ${out}: ${result.steps} steps, train loss ${result.trainLoss.toFixed(4)}, ` +
          `validation loss ${result.validationLoss === null ? 'n/a' : result.validationLoss.toFixed(4)}\n`,
      );
    });
}
