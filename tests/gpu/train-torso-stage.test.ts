/**
 * The torso stage through the training loop on the WebGPU backend (no CPU delegation), resumed
 * from a head-stage checkpoint: it follows the CPU backend's run (held-out PSNR, torso
 * tensors), and an interrupted torso stage resumed from its checkpoint ends bit-identical to an
 * uninterrupted one. The head checkpoint comes from the CPU backend (checkpoints do not depend
 * on the backend), which keeps this test to seconds on SwiftShader; that the torso stage raises
 * PSNR at a real budget is tests/unit/nerf-stages.test.ts's (CPU) and this test's parity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { WebGpuTrainerBackend } from '../../trainer/nerf/gpu/backend.ts';
import { trainNerf, type NerfTrainOptions } from '../../trainer/nerf/loop.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';
import { memoryIo } from '../helpers/train-io.ts';

const base: NerfTrainOptions = { preset: 'tiny', stages: ['head'], rays: 64, seed: 4, eyeInput: true, progressive: false, evalEvery: 0, evalFrames: 2, checkpointEvery: 0, resume: false };

let ctx: GpuContext;
let data: TrainingData;
let headCheckpoint: Uint8Array;

beforeAll(async () => {
  if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
  ctx = await acquireGpu({ gpu: await nodeGpu() });
  const files = await writeAnalyticSubject({ size: 32, frames: 24 });
  data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
  const io = memoryIo();
  await trainNerf(new CpuTrainerBackend(), data, { ...base, iters: 20 }, io);
  headCheckpoint = io.checkpoint!;
});

describe('torso stage on the WebGPU backend', () => {
  it('follows the CPU backend, and resumes after an interruption bit for bit', async () => {
    const opts: NerfTrainOptions = { ...base, stages: ['torso'], iters: 12, evalEvery: 6, resume: true };
    const straight = memoryIo(headCheckpoint);
    const res = await trainNerf(new WebGpuTrainerBackend(ctx), data, opts, straight);
    const cpuIo = memoryIo(headCheckpoint);
    const cpu = await trainNerf(new CpuTrainerBackend(), data, opts, cpuIo);
    const evals = res.history.filter((h) => h.stage === 'torso');
    expect(evals.map((h) => h.step)).toEqual([0, 6, 12]);
    // The torso trains: its evaluations move, and follow the CPU backend's step for step (measured within 1e-4 dB).
    expect(evals[2].psnr).not.toBe(evals[0].psnr);
    cpu.history.forEach((h, k) => expect(Math.abs(evals[k].psnr - h.psnr), `step ${h.step}`).toBeLessThan(0.005));
    // (Parameters are not compared here: Adam with eps 1e-15 turns the float rounding of
    // near-zero gradients into full-size steps; tests/gpu/train-torso-net.test.ts compares
    // gradients and a few Adam steps directly.)
    const avatar = await readAvatar(straight.avatars.get('torso')!);
    expect(avatar.provenance).toMatchObject({ stages: 'head,torso', backend: 'webgpu' });
    if (process.env.NERF_VERBOSE) console.log(JSON.stringify([res.history, cpu.history]));

    const broken = memoryIo(headCheckpoint);
    const ctrl = new AbortController();
    const err = await trainNerf(new WebGpuTrainerBackend(ctx), data, { ...opts, signal: ctrl.signal, onProgress: (p) => p.step === 5 && ctrl.abort() }, broken).catch((e) => e);
    expect(err).toBeInstanceOf(R2TalkerError);
    expect((err as R2TalkerError).code).toBe('ABORTED');
    expect(broken.avatars.size).toBe(0);
    await trainNerf(new WebGpuTrainerBackend(ctx), data, opts, broken);
    expect(Buffer.from(broken.avatars.get('torso')!).equals(Buffer.from(straight.avatars.get('torso')!))).toBe(true);
    expect(Buffer.from(broken.checkpoint!).equals(Buffer.from(straight.checkpoint!))).toBe(true);
  });
});
