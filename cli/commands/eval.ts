/**
 * `r2talker eval`: held-out PSNR, SSIM and mouth-region PSNR of an avatar on a subject split,
 * each frame rendered from that frame's exact pose and landmarks (no smoothing, no ping-pong).
 */
import type { Command } from 'commander';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';
import { ConfigError } from '../../worker/errors.ts';
import { evaluateOnSubject } from '../../worker/metrics/subject-eval.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { createBackend } from '../backends.ts';
import { progressBar } from '../progress.ts';
import { parseLimit } from './render.ts';
import { writeFramePng } from './frame-png.ts';

interface EvalOptions {
  avatar: string;
  data: string;
  split: string;
  backend: string;
  frames?: string;
  lipSmoothing?: boolean;
  headOnly?: boolean;
  out?: string;
  json?: boolean;
}

const dB = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} dB` : 'inf (identical)');

export function register(program: Command): void {
  program
    .command('eval')
    .description('score an avatar on a subject split: PSNR, SSIM and mouth-region PSNR against gt_imgs')
    .requiredOption('--avatar <file>', 'avatar file (.r2t)')
    .requiredOption('--data <dir>', 'subject folder in the reference layout')
    .option('--split <name>', 'train or val', 'val')
    .option('--backend <name>', 'cpu (reference) or webgpu', 'cpu')
    .option('--frames <n>', 'score only the first N frames of the split')
    .option('--lip-smoothing', "apply the reference's test-time lip EMA (off: frames scored as the trainer scores them)")
    .option('--head-only', 'score the head alone over each frame\'s own torso image (as the head stage trains it); cpu backend')
    .option('--out <dir>', 'also write the rendered frames as frame_%04d.png')
    .option('--json', 'print machine-readable JSON with per-frame scores')
    .action(async (opts: EvalOptions) => {
      if (opts.split !== 'train' && opts.split !== 'val') throw new ConfigError(`--split: expected train or val, got ${JSON.stringify(opts.split)}`);
      if (opts.frames !== undefined) parseLimit(opts.frames, 1);
      if (opts.headOnly && opts.backend !== 'cpu') throw new ConfigError(`--head-only: needs the head field's colour and weights, which only --backend cpu exposes (got ${JSON.stringify(opts.backend)})`);
      const split = opts.split;
      const bar = progressBar('eval');
      const subject = await openSubject(folderFiles(opts.data), nodeImageCodec, { splits: [split], onProgress: (d, t) => bar.update(d, t, 'checking subject') });
      const source = await openFileSource(opts.avatar);
      const avatar = await readAvatar(source).finally(() => source.close());
      const weights = loadModelWeights(avatar);
      const n = subject.splits[split]!.frames.length;
      const limit = parseLimit(opts.frames, n);
      const backend = await createBackend(opts.backend, avatar);
      const cpu = opts.headOnly ? new CpuRenderer(weights, avatar.camera) : null;
      const started = performance.now();
      try {
        const scores = await evaluateOnSubject(avatar, weights, subject, split, (f) => backend.render(f), {
          limit,
          lipSmoothing: opts.lipSmoothing,
          renderHead: cpu ? async (f) => cpu.render(f) : undefined,
          onFrame: async (i, rgba) => {
            if (opts.out) await writeFramePng(opts.out, i, rgba, subject.width, subject.height);
            bar.update(i + 1, limit, `frame ${i + 1}/${limit}`);
          },
        });
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          process.stdout.write(JSON.stringify({ avatar: opts.avatar, data: subject.root, backend: backend.name, headOnly: Boolean(opts.headOnly), seconds, ...scores }, (_k, v) => (v === Infinity ? 'inf' : v), 2) + '\n');
        } else {
          process.stdout.write(
            `${split}${opts.headOnly ? ' (head over the subject\'s torso)' : ''}: ${scores.frames.length} frames ${subject.width}x${subject.height}, PSNR ${dB(scores.psnr)}, SSIM ${scores.ssim.toFixed(4)}, ` +
              `mouth PSNR ${dB(scores.mouthPsnr)} (${backend.name}, ${seconds.toFixed(1)} s)\n`,
          );
        }
      } finally {
        bar.stop();
        backend.destroy();
      }
    });
}
