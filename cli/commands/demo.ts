import path from 'node:path';
import type { Command } from 'commander';
import { makeDemoAvatar, demoLandmarkTrack } from '../../worker/avatar/synthetic.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { writeFileAtomic } from '../files.ts';
import { progressBar } from '../progress.ts';
import { createBackend } from '../backends.ts';
import { renderTrack, type BackendName } from '../render-track.ts';
import { parseLimit } from './render.ts';

export function register(program: Command): void {
  program
    .command('demo')
    .description('write the built-in demo avatar and a talking landmark track, and render it')
    .option('--out <dir>', 'output directory', 'out/demo')
    .option('--frames <n>', 'number of frames to render', '10')
    .option('--backend <name>', 'cpu (reference) or webgpu', 'cpu')
    .action(async (opts: { out: string; frames: string; backend: BackendName }) => {
      // Render what the file holds (float16 weights), not the in-memory original, so the demo
      // exercises the same load path a user's avatar takes.
      const bytes = writeAvatar(makeDemoAvatar(), { weightDtype: 'float16' });
      const avatar = await readAvatar(bytes);
      const frames = 100;
      const track = demoLandmarkTrack(frames);
      const avatarFile = path.join(opts.out, 'demo.r2t');
      const trackFile = path.join(opts.out, 'demo_landmarks.npy');
      await writeFileAtomic(avatarFile, bytes);
      await writeFileAtomic(trackFile, writeNpy({ dtype: 'float32', shape: [frames, 68, 3], data: track }));
      const backend = await createBackend(opts.backend, avatar);
      try {
        const limit = parseLimit(opts.frames, frames);
        const summary = await renderTrack({ avatar, track, frames, limit, outDir: path.join(opts.out, 'frames'), backend, progress: progressBar('render') });
        process.stdout.write(
          `wrote ${avatarFile} and ${trackFile}\n` +
            `rendered ${summary.frames} frames with ${backend.name} in ${summary.seconds.toFixed(2)} s to ${path.join(opts.out, 'frames')}\n`,
        );
      } finally {
        backend.destroy();
      }
    });
}
