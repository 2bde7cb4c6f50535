/**
 * `r2talker prepare --video <me.webm|me.mp4> | --frames <dir> --audio <wav>  --out <subject>
 *  [--size 512] [--val-seconds N]`:
 * a training subject in the reference layout from a selfie recording, on this machine (face
 * models from npm packages, nothing fetched). Ctrl-C cancels and leaves nothing behind.
 */
import type { Command } from 'commander';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import type { DecoderReport, FrameSource, PcmAudio } from '../../worker/prepare/pipeline.ts';
import { openVideoFile } from '../video/video-source.ts';
import { readWav } from '../../worker/io/wav.ts';
import { frameDirectory } from '../../worker/prepare/frame-dir.node.ts';
import { prepareSubject, type PrepareStage } from '../../worker/prepare/pipeline.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodePrepareCodec } from '../../worker/subject/images.node.ts';
import { readInputFile } from '../files.ts';
import { progressBar } from '../progress.ts';

interface PrepareCliOptions {
  frames?: string;
  video?: string;
  audio?: string;
  fps: string;
  out: string;
  size: string;
  valSeconds?: string;
  focal?: string;
  overwrite?: boolean;
}

function positive(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new ConfigError(`${flag}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('prepare')
    .description('make a training subject (reference layout + prepare.json) from a recording of yourself')
    .option('--frames <dir>', 'folder of frames (.png/.jpg, numbered), one still camera')
    .option('--video <file>', 'a .webm/.mp4 recording (demuxed here, decoded by WebCodecs in headless Chromium; its sound track unless --audio is given)')
    .option('--audio <wav>', 'the speech that goes with the frames (.wav)')
    .option('--fps <n>', 'frame rate of --frames', '25')
    .requiredOption('--out <dir>', 'subject folder to create (written atomically)')
    .option('--size <px>', 'output frame side', '512')
    .option('--val-seconds <s>', 'hold out the last N seconds for validation (default: the last 1/11)')
    .option('--focal <px>', 'known focal length in output pixels (skips the search)')
    .option('--overwrite', 'replace an existing --out folder')
    .action(async (opts: PrepareCliOptions) => {
      if (opts.video && opts.frames) throw new ConfigError('prepare: give either --video or --frames, not both');
      if (!opts.video && !opts.frames) throw new ConfigError('prepare: give --video <file>, or --frames <dir> and --audio <wav>');
      if (opts.frames && !opts.audio) throw FormatError.input('audio', 'no audio: pass --audio <wav> with the speech that goes with the frames');
      const fps = positive('--fps', opts.fps, false)!;
      const size = positive('--size', opts.size, true)!;
      let audio: PcmAudio | null = null;
      if (opts.audio) {
        const wav = readWav(await readInputFile(opts.audio, 'audio'));
        audio = { samples: wav.samples, sampleRate: wav.sampleRate };
      }
      let frames: FrameSource;
      let close = async (): Promise<void> => {};
      let decoder: DecoderReport | undefined;
      if (opts.video) {
        const video = await openVideoFile(opts.video);
        frames = video.frames;
        audio ??= video.audio;
        decoder = opts.audio ? { ...video.decoder, audioRoute: 'none' } : video.decoder;
        close = video.close;
      } else {
        frames = await frameDirectory(opts.frames!, fps);
      }
      try {
        await run(opts, frames, audio, size, decoder);
      } finally {
        await close();
      }
    });
}

async function run(opts: PrepareCliOptions, frames: FrameSource, audio: PcmAudio | null, size: number, decoder: DecoderReport | undefined): Promise<void> {
  const models = await loadFaceModels(nodeFaceModelSource);
  const sink = await folderSink(opts.out, { overwrite: opts.overwrite });
  const ctl = new AbortController();
  const onSignal = (): void => ctl.abort();
  process.once('SIGINT', onSignal);
  const bar = progressBar('prepare');
  const labels: Record<PrepareStage, string> = { track: 'tracking the face', fit: 'fitting camera and poses', background: 'estimating the background', write: 'writing the subject' };
  try {
    const report = await prepareSubject(frames, audio, sink, nodePrepareCodec, models, {
      size,
      valSeconds: positive('--val-seconds', opts.valSeconds, false),
      focal: positive('--focal', opts.focal, false),
      // Ablation only (scripts/prepare-training-proof.sh PROOF_RELIEF): the textured face's depth relief.
      relief: positive('R2T_PREPARE_RELIEF', process.env.R2T_PREPARE_RELIEF || undefined, false),
      // Ablation only (PROOF_HEAD_SHELL=0): the photometric refinement textures the face alone.
      ...(process.env.R2T_PREPARE_HEAD_SHELL === '0' ? { headShell: false } : {}),
      // Ablation only: each frame's own eye ratio, not held at the open level between blinks.
      ...(process.env.R2T_PREPARE_STEADY_EYES === '0' ? { steadyEyes: false } : {}),
      decoder,
      signal: ctl.signal,
      onProgress: (stage, done, total) => bar.update(done, total, labels[stage]),
    });
    bar.stop();
    for (const w of report.warnings) process.stderr.write(`r2talker: warning: ${w}\n`);
    const dropped = Object.entries(report.frames.dropped).map(([r, n]) => `${n} ${r}`).join(', ');
    process.stdout.write(
      `wrote ${opts.out}: ${report.frames.kept} of ${report.frames.total} frames (${report.split.train} train, ${report.split.val} val)${dropped ? `, dropped ${dropped}` : ''}; focal ${report.focal.toFixed(1)} px; ${(report.timingsMs.total / 1000).toFixed(1)} s\n`,
    );
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
  }
}
