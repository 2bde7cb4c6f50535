import type { Command } from 'commander';
import { ConfigError } from '../../worker/errors.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { generateSubject, synthCamera, type SynthOptions } from '../../worker/synth/generate.ts';
import { createFramePool, maxJobs } from '../../worker/synth/frame-pool.node.ts';
import { progressBar } from '../progress.ts';

function int(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new ConfigError(`--${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

export function register(program: Command): void {
  program
    .command('synth-subject')
    .description('write a synthetic talking-head subject (reference layout + ground_truth/) for training and tests')
    .requiredOption('--out <dir>', 'output subject folder (written atomically)')
    .option('--size <n>', 'image side in pixels (even)', int('size'), 128)
    .option('--frames <n>', 'frames at 25 fps', int('frames'), 250)
    .option('--seed <n>', 'seed: face, motion and background', int('seed'), 1)
    .option('--val-frames <n>', 'validation frames at the end (default: the last 1/11)', int('val-frames'))
    .option('--head-motion <x>', 'head motion scale (0 = still)', parseFloat, 1)
    .option('--zoom <x>', 'framing: 1 head and shoulders, up to 2 closer (narrower lens, same headroom)', parseFloat, 1)
    .option('--jobs <n>', 'rendering threads (default: one per core)', int('jobs'))
    .option('--overwrite', 'replace an existing output folder')
    .action(async (opts: { out: string; size: number; frames: number; seed: number; valFrames?: number; headMotion: number; zoom: number; jobs?: number; overwrite?: boolean }) => {
      const options: SynthOptions = { size: opts.size, frames: opts.frames, seed: opts.seed, valFrames: opts.valFrames, headMotion: opts.headMotion, zoom: opts.zoom };
      const cam = synthCamera(options);
      const jobs = Math.min(opts.jobs ?? maxJobs(), opts.frames);
      const pool = jobs > 1 ? createFramePool(jobs) : null;
      const bar = progressBar('synth-subject');
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const started = performance.now();
      try {
        const writer = new SubjectWriter(await folderSink(opts.out, { overwrite: opts.overwrite }), nodeImageCodec, { width: cam.width, height: cam.height, focal: cam.focal });
        const s = await generateSubject(writer, cam, { ...options, signal: abort.signal, onProgress: (d, t) => bar.update(d, t, 'frames') }, pool?.render, 2 * jobs);
        bar.stop();
        const secs = (performance.now() - started) / 1000;
        process.stdout.write(
          `wrote ${writer.sink.root}: ${s.frames} frames ${s.size}x${s.size} (train ${s.valStart}, val ${s.frames - s.valStart}), focal ${s.focal}, seed ${s.seed}, ` +
            `${(s.frames / secs).toFixed(1)} frames/s with ${jobs} thread${jobs > 1 ? 's' : ''}\n`,
        );
      } finally {
        bar.stop();
        process.off('SIGINT', onSigint);
        await pool?.close();
      }
    });
}
