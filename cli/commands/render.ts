import type { Command } from 'commander';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';
import { FormatError } from '../../worker/errors.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readInputFile } from '../files.ts';
import { progressBar } from '../progress.ts';
import { createBackend } from '../backends.ts';
import { renderTrack, trackFrames, type BackendName } from '../render-track.ts';

interface RenderOptions {
  avatar: string;
  landmarks: string;
  out: string;
  frames?: string;
  backend: BackendName;
}

export function register(program: Command): void {
  program
    .command('render')
    .description('render frames frame_0000.png ... from a landmark track with an avatar')
    .requiredOption('--avatar <file>', 'avatar file (.r2t)')
    .requiredOption('--landmarks <file>', 'landmark track .npy, [T,68,3] or [T,204]')
    .requiredOption('--out <dir>', 'output directory')
    .option('--frames <n>', 'render only the first N frames')
    .option('--backend <name>', 'cpu (reference) or webgpu', 'cpu')
    .action(async (opts: RenderOptions) => {
      const source = await openFileSource(opts.avatar);
      const bar = progressBar('loading');
      const avatar = await readAvatar(source, { onProgress: (d, t) => bar.update(d, t, 'avatar') }).finally(() => source.close());
      bar.stop();
      const npy = readNpy(await readInputFile(opts.landmarks, 'landmarks'));
      const frames = trackFrames(npy.shape, avatar.config.condition.numLandmarks);
      const track = npy.data instanceof Float32Array ? npy.data : npy.data instanceof BigInt64Array ? Float32Array.from(npy.data, Number) : Float32Array.from(npy.data);
      const limit = parseLimit(opts.frames, frames);
      const backend = await createBackend(opts.backend, avatar);
      try {
        const summary = await renderTrack({ avatar, track, frames, limit, outDir: opts.out, backend, progress: progressBar('render') });
        process.stdout.write(
          `rendered ${summary.frames} frames (${avatar.camera.width}x${avatar.camera.height}) with ${backend.name} in ${summary.seconds.toFixed(2)} s ` +
            `(${(summary.frames / summary.seconds).toFixed(2)} fps) to ${opts.out}\n`,
        );
      } finally {
        backend.destroy();
      }
    });
}

export function parseLimit(value: string | undefined, frames: number): number {
  if (value === undefined) return frames;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw FormatError.input('--frames', `expected a positive integer, got ${JSON.stringify(value)}`);
  return Math.min(n, frames);
}
