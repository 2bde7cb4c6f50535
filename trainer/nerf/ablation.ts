/**
 * Ablations for the closing notes (figures, not tests): the same subject, seed and budget,
 * trained with and without the paper's progressive optimisation (head stage), and the lips
 * fine-tune with and without the SSIM structural term. Prints one JSON line per run with
 * held-out PSNR and mouth-region PSNR.
 *
 *   npx tsx trainer/nerf/ablation.ts --data <subject> [--preset tiny] [--iters N] [--rays N]
 *       [--lips-iters N] [--seed S] [--eval-frames N] [--which progressive|lips|all]
 */
import { parseArgs } from 'node:util';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { CpuTrainerBackend } from './cpu/backend.ts';
import { TrainingData } from './data.ts';
import { trainNerf, type NerfTrainOptions, type TrainIo } from './loop.ts';
import type { PresetName } from './presets.ts';

function memoryIo(): TrainIo & { checkpoint: Uint8Array | null } {
  const io = {
    checkpoint: null as Uint8Array | null,
    readCheckpoint: async () => io.checkpoint,
    writeCheckpoint: async (b: Uint8Array) => {
      io.checkpoint = b;
    },
    writeAvatar: async () => {},
  };
  return io;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      preset: { type: 'string', default: 'tiny' },
      iters: { type: 'string' },
      'lips-iters': { type: 'string' },
      rays: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'eval-frames': { type: 'string', default: '8' },
      which: { type: 'string', default: 'all' },
    },
  });
  if (!values.data) throw new Error('--data <subject> is required');
  const data = await TrainingData.open(await openSubject(folderFiles(values.data), nodeImageCodec));
  const base: NerfTrainOptions = {
    preset: values.preset as PresetName,
    stages: ['head'],
    iters: values.iters ? Number(values.iters) : undefined,
    rays: values.rays ? Number(values.rays) : undefined,
    seed: Number(values.seed),
    eyeInput: true,
    progressive: false,
    evalEvery: 0,
    evalFrames: Number(values['eval-frames']),
    checkpointEvery: 0,
    resume: false,
  };
  const report = (name: string, m: Record<string, number>, seconds: number) =>
    process.stdout.write(`${JSON.stringify({ run: name, ...m, seconds: Math.round(seconds) })}\n`);
  if (values.which === 'all' || values.which === 'progressive') {
    for (const progressive of [false, true]) {
      const t0 = Date.now();
      const r = await trainNerf(new CpuTrainerBackend(), data, { ...base, progressive }, memoryIo());
      report(progressive ? 'head+progressive' : 'head', r.metrics, (Date.now() - t0) / 1000);
    }
  }
  if (values.which === 'all' || values.which === 'lips') {
    // One head stage, then the lips fine-tune from the same checkpoint with and without SSIM.
    const io = memoryIo();
    await trainNerf(new CpuTrainerBackend(), data, base, io);
    const head = io.checkpoint!;
    const lipsIters = values['lips-iters'] ? Number(values['lips-iters']) : undefined;
    for (const w of [undefined, 0]) {
      const t0 = Date.now();
      const branch = memoryIo();
      branch.checkpoint = head;
      // iters applies to every stage: the lips budget is set through the same option.
      const r = await trainNerf(new CpuTrainerBackend(), data, { ...base, stages: ['lips'], resume: true, lipsStructureWeight: w, iters: lipsIters ?? base.iters }, branch);
      report(w === 0 ? 'lips mse only' : 'lips mse+ssim', r.metrics, (Date.now() - t0) / 1000);
    }
  }
}

await main();
