/**
 * `r2talker train --data <subject> --out <a.r2t>`: trains an R2-Talker avatar from a subject
 * in the reference layout (trainer/nerf/loop.ts), with a progress bar (stage, step, loss,
 * held-out PSNR, steps/s, time left). The whole subject is validated before the first step;
 * Ctrl-C writes a checkpoint (`<out>.ckpt`) that `--resume` continues from; the .r2t is written
 * atomically when a stage completes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { ConfigError, R2TalkerError } from '../../worker/errors.ts';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { createTrainerBackend } from '../../trainer/nerf/backends.ts';
import type { StageName } from '../../trainer/nerf/checkpoint.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { STAGE_ORDER, trainNerf, type TrainProgress } from '../../trainer/nerf/loop.ts';
import { PRESET_NAMES, type PresetName } from '../../trainer/nerf/presets.ts';
import { writeFileAtomic } from '../files.ts';

interface TrainCliOptions {
  data: string;
  out: string;
  stage: string;
  iters?: string;
  rays?: string;
  preset: string;
  backend: string;
  resume?: boolean;
  preview?: string;
  previewEvery: string;
  seed: string;
  eye: boolean;
  progressive?: boolean;
  lipsSsim?: string;
  headMask?: string;
  evalEvery: string;
  evalFrames: string;
  checkpointEvery: string;
  checkpoint?: string;
  progress?: boolean;
  prior?: string;
}

async function readAvatarFile(file: string) {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new ConfigError(`--prior: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return readAvatar(bytes);
}

function intOption(name: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

function stagesOf(s: string): StageName[] {
  if (s === 'all') return STAGE_ORDER.slice();
  if (!STAGE_ORDER.includes(s as StageName)) throw new ConfigError(`--stage: expected head, lips, torso or all, got ${JSON.stringify(s)}`);
  return [s as StageName];
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(r).padStart(2, '0')}`;
}

function toPng(image: Float32Array, width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(Math.min(1, Math.max(0, image[i])) * 255);
  return nodeImageCodec.encodePng({ width, height, channels: 3, data });
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train an R2-Talker avatar (.r2t) from a subject in the reference layout')
    .requiredOption('--data <dir>', 'subject folder (transforms_train.json, gt_imgs/, torso_imgs/, aud_idexp_*.npy, ...)')
    .requiredOption('--out <file>', 'avatar to write (.r2t); the checkpoint goes beside it as <out>.ckpt')
    .option('--stage <name>', 'head | lips | torso | all', 'all')
    .option('--iters <n>', 'steps per stage (default: the preset\'s)')
    .option('--rays <n>', 'rays per step (default: the preset\'s)')
    .option('--preset <name>', `model and schedule size: ${PRESET_NAMES.join(' | ')}`, 'small')
    .option('--backend <name>', 'webgpu | cpu', 'cpu')
    .option('--resume', 'continue from the checkpoint of an interrupted run')
    .option('--preview <dir>', 'write a held-out preview frame (PNG) here every --preview-every steps')
    .option('--preview-every <n>', 'steps between previews', '500')
    .option('--seed <n>', 'seed of every random draw (same seed and backend, same result)', '1')
    .option('--no-eye', 'train without the eye input')
    .option('--prior <file>', "start the head from this trained avatar's weights (same preset; `builtin`: the built-in avatar, a tiny model); the subject's landmarks are mapped into the prior's landmark space, and train-generator maps the generator the same way (README)")
    .option('--progressive', "release the hash-grid levels coarse to fine (the paper's progressive optimisation)")
    .option('--lips-ssim <w>', 'weight of the SSIM structural loss on lips patches, standing in for LPIPS (default: the preset\'s; 0 = MSE only)')
    .option('--head-mask <w>', "weight of the parsing-mask term that makes the head opaque where parsing/ says head (default: the preset's; 0 = off, as the reference)")
    .option('--eval-every <n>', 'held-out evaluation every N steps (0: at stage ends)', '0')
    .option('--eval-frames <n>', 'held-out frames per evaluation', '8')
    .option('--checkpoint-every <n>', 'checkpoint every N steps (0: at stage ends and on Ctrl-C)', '1000')
    .option('--checkpoint <file>', 'checkpoint path (default <out>.ckpt)')
    .option('--progress', 'force the progress bar when stderr is not a terminal')
    .action(async (opts: TrainCliOptions) => {
      const stages = stagesOf(opts.stage);
      if (!PRESET_NAMES.includes(opts.preset as PresetName)) throw new ConfigError(`--preset: expected one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(opts.preset)}`);
      const iters = intOption('--iters', opts.iters, 1, 10_000_000);
      const rays = intOption('--rays', opts.rays, 1, 1 << 20);
      const seed = intOption('--seed', opts.seed, 0, 0xffffffff)!;
      const previewEvery = intOption('--preview-every', opts.previewEvery, 1, 1e9)!;
      const evalEvery = intOption('--eval-every', opts.evalEvery, 0, 1e9)!;
      const evalFrames = intOption('--eval-frames', opts.evalFrames, 1, 100_000)!;
      const checkpointEvery = intOption('--checkpoint-every', opts.checkpointEvery, 0, 1e9)!;
      const out = path.resolve(opts.out);
      const ckpt = path.resolve(opts.checkpoint ?? `${out}.ckpt`);
      const showBar = opts.progress || Boolean(process.stderr.isTTY);

      // Everything is validated before anything is written: a corrupt subject leaves no file behind.
      const subject = await openSubject(folderFiles(opts.data), nodeImageCodec);
      const data = await TrainingData.open(subject);
      const prior = opts.prior === undefined ? undefined : opts.prior === 'builtin' ? await loadBuiltinAvatar() : await readAvatarFile(opts.prior);
      const backend = await createTrainerBackend(opts.backend);

      const ctrl = new AbortController();
      const onSigint = () => ctrl.abort();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const bar = showBar
        ? new cliProgress.SingleBar(
            { format: '{stage} [{bar}] {value}/{total} loss {loss} psnr {psnr} {sps} steps/s ETA {left}', stream: process.stderr, hideCursor: true, clearOnComplete: false, noTTYOutput: true, notTTYSchedule: 500 },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let barStage = '';
      const onProgress = (p: TrainProgress) => {
        if (!bar) return;
        const payload = { stage: p.stage.padEnd(5), loss: p.loss.toFixed(5), psnr: p.psnr === null ? '--' : p.psnr.toFixed(2), sps: p.stepsPerSecond.toFixed(2), left: formatEta(p.etaSeconds) };
        if (barStage !== p.stage) {
          if (barStage) bar.stop();
          bar.start(p.iters, p.step, payload);
          barStage = p.stage;
        } else bar.update(p.step, payload);
      };
      if (opts.preview) await fs.mkdir(opts.preview, { recursive: true });
      try {
        const summary = await trainNerf(
          backend,
          data,
          {
            preset: opts.preset as PresetName,
            stages,
            iters,
            rays,
            seed,
            prior,
            eyeInput: opts.eye,
            progressive: Boolean(opts.progressive),
            lipsStructureWeight: opts.lipsSsim === undefined ? undefined : Number(opts.lipsSsim),
            maskWeight: opts.headMask === undefined ? undefined : Number(opts.headMask),
            evalEvery,
            evalFrames,
            checkpointEvery,
            resume: Boolean(opts.resume),
            name: path.basename(out, path.extname(out)),
            signal: ctrl.signal,
            onProgress,
            previewEvery: opts.preview ? previewEvery : 0,
            onPreview: opts.preview
              ? async (p) => writeFileAtomic(path.join(opts.preview!, `${p.stage}_${String(p.step).padStart(7, '0')}.png`), toPng(p.image, p.width, p.height))
              : undefined,
          },
          {
            readCheckpoint: async () => {
              try {
                return new Uint8Array(await fs.readFile(ckpt));
              } catch (e) {
                if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
                throw e;
              }
            },
            writeCheckpoint: (bytes) => writeFileAtomic(ckpt, bytes),
            writeAvatar: (bytes) => writeFileAtomic(out, bytes),
          },
        );
        bar?.stop();
        const m = summary.metrics;
        const parts = summary.completed.map((s) => `${s}: ${m[`${s}_steps`]} steps, held-out PSNR ${m[`${s}_psnr`]} dB (mouth ${m[`${s}_mouth_psnr`]} dB)`);
        process.stdout.write(`trained ${out} (${opts.preset}, ${backend.name}): ${parts.join('; ')}\n`);
      } catch (e) {
        bar?.stop();
        if (e instanceof R2TalkerError && e.code === 'ABORTED') {
          process.stderr.write(`r2talker: ${e.message}; checkpoint ${ckpt}\n`);
          process.exitCode = 130;
          return;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        backend.dispose();
      }
    });
}
