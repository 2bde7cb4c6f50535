import path from 'node:path';
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { FormatError } from '../../worker/errors.ts';
import { importCheckpoint } from '../../worker/import/importer.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { firstExisting, readInputFile, writeFileAtomic } from '../files.ts';
import { progressBar } from '../progress.ts';

interface ImportCliOptions {
  ckpt: string;
  data?: string;
  out: string;
  transforms?: string;
  background?: string;
  landmarks?: string;
  name?: string;
  dtype: 'float16' | 'float32';
}

export function register(program: Command): void {
  program
    .command('import')
    .description('import a checkpoint written by the reference R2-Talker / RAD-NeRF PyTorch code into an .r2t avatar')
    .requiredOption('--ckpt <file>', 'checkpoint (.pth) written by torch.save: "best" (EMA) or full')
    .option('--data <dir>', 'subject directory holding transforms_val.json and bc.jpg / bc.png')
    .requiredOption('--out <file>', 'avatar file to write (.r2t)')
    .option('--transforms <file>', 'transforms json (default: <data>/transforms_val.json, then transforms_train.json)')
    .option('--background <file>', 'background image (default: <data>/bc.jpg, then bc.png)')
    .option('--landmarks <file>', 'landmark track [T,68,3] .npy for the normalisation statistics the avatar carries')
    .option('--name <name>', 'display name (default: the checkpoint file name)')
    .option('--dtype <dtype>', 'weight storage: float16 (half the size) or float32', 'float16')
    .action(async (opts: ImportCliOptions) => {
      if (opts.dtype !== 'float16' && opts.dtype !== 'float32') throw FormatError.input('--dtype', `expected float16 or float32, got ${JSON.stringify(opts.dtype)}`);
      const transformsFile = opts.transforms ?? (opts.data ? await firstExisting(opts.data, ['transforms_val.json', 'transforms_train.json']) : null);
      if (!transformsFile) throw FormatError.input('--transforms', 'no transforms json given and none found in --data (transforms_val.json, transforms_train.json)');
      const backgroundFile = opts.background ?? (opts.data ? await firstExisting(opts.data, ['bc.jpg', 'bc.png']) : null);
      if (!backgroundFile) throw FormatError.input('--background', 'no background given and none found in --data (bc.jpg, bc.png)');

      let transforms: unknown;
      try {
        transforms = JSON.parse(new TextDecoder().decode(await readInputFile(transformsFile, 'transforms')));
      } catch (err) {
        if (err instanceof FormatError) throw err;
        throw FormatError.input('transforms', `${transformsFile} is not valid JSON: ${(err as Error).message}`, err);
      }
      const background = decodeImage(await readInputFile(backgroundFile, 'background'), 'background');
      let landmarks: Float32Array | undefined;
      if (opts.landmarks) {
        const npy = readNpy(await readInputFile(opts.landmarks, 'landmarks'));
        landmarks = npy.data instanceof Float32Array ? npy.data : npy.data instanceof BigInt64Array ? Float32Array.from(npy.data, Number) : Float32Array.from(npy.data);
      }
      const checkpoint = await readInputFile(opts.ckpt, 'checkpoint');
      const bar = progressBar('import');
      const avatar = importCheckpoint(
        { checkpoint, transforms, background, landmarks, name: opts.name ?? path.basename(opts.ckpt).replace(/\.[^.]+$/, '') },
        { onProgress: (done, total, stage) => bar.update(done, total, stage) },
      );
      const bytes = writeAvatar(avatar, { weightDtype: opts.dtype });
      bar.stop();
      await writeFileAtomic(opts.out, bytes);
      const stat = await fs.stat(opts.out);
      const c = avatar.config;
      process.stdout.write(
        `imported ${opts.ckpt} -> ${opts.out} (${(stat.size / 2 ** 20).toFixed(1)} MiB, ${opts.dtype})\n` +
          `  image ${avatar.camera.width}x${avatar.camera.height}, ${avatar.tensors.get('poses')?.shape[0] ?? 0} poses, ` +
          `eye input ${c.head.eyeInput ? 'on' : 'off'}, torso ${c.torso ? 'on' : 'off'}, head grid ${c.head.grid.offsets[c.head.grid.levels]} rows\n`,
      );
    });
}
