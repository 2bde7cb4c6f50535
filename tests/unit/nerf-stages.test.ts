/**
 * The later stages of the NeRF trainer: the lips fine-tune (grids frozen, SSIM on lips
 * patches alternating with random rays) and the torso stage (head frozen) on the analytic
 * subject, CPU backend, bounded steps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { trainNerf, type NerfTrainOptions } from '../../trainer/nerf/loop.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { toFloat32 } from '../../worker/avatar/tensor.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

let data: TrainingData;

beforeAll(async () => {
  const files = await writeAnalyticSubject({ size: 32, frames: 24 });
  data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
});

describe('NeRF trainer stages', () => {
  it('lips fine-tune keeps the grids frozen and trains the networks; the torso stage adds a torso that raises full-frame PSNR', async () => {
    const avatars = new Map<string, Uint8Array>();
    let checkpoint: Uint8Array | null = null;
    const io = {
      readCheckpoint: async () => checkpoint,
      writeCheckpoint: async (b: Uint8Array) => {
        checkpoint = b;
      },
      writeAvatar: async (b: Uint8Array, stage: string) => {
        avatars.set(stage, b);
      },
    };
    const opts: NerfTrainOptions = { preset: 'tiny', stages: ['head', 'lips'], iters: 60, rays: 128, seed: 4, eyeInput: false, progressive: true, evalEvery: 0, evalFrames: 2, checkpointEvery: 0, resume: false };
    await trainNerf(new CpuTrainerBackend(), data, opts, io);
    const head = await readAvatar(avatars.get('head')!);
    const lips = await readAvatar(avatars.get('lips')!);
    expect(head.config.head.eyeInput).toBe(false);
    const same = (name: string) => {
      const a = toFloat32(head.tensors.get(name)!);
      const b = toFloat32(lips.tensors.get(name)!);
      return a.length === b.length && a.every((v, i) => v === b[i]);
    };
    expect(same('encoder.embeddings')).toBe(true);
    expect(same('encoder_idexp_lm3d.embeddings')).toBe(true);
    expect(same('sigma_net.net.1.weight')).toBe(false);
    expect(same('mlp_lms_style_1.net.2.weight')).toBe(false);
    expect(lips.provenance.stages).toBe('head,lips');

    // Torso, continuing from the checkpoint (the head and lips stages are done).
    const res = await trainNerf(new CpuTrainerBackend(), data, { ...opts, stages: ['torso'], iters: 100, evalEvery: 50, resume: true }, io);
    const torsoEvals = res.history.filter((h) => h.stage === 'torso');
    if (process.env.NERF_VERBOSE) console.log(JSON.stringify(torsoEvals));
    expect(torsoEvals[0].step).toBe(0);
    expect(torsoEvals[torsoEvals.length - 1].psnr - torsoEvals[0].psnr).toBeGreaterThan(1);
    const full = await readAvatar(avatars.get('torso')!);
    expect(full.config.torso).not.toBeNull();
    expect(full.tensors.has('density_grid_torso')).toBe(true);
    expect(full.provenance.stages).toBe('head,lips,torso');
    // The head is frozen in the torso stage.
    const a = toFloat32(lips.tensors.get('sigma_net.net.0.weight')!);
    const b = toFloat32(full.tensors.get('sigma_net.net.0.weight')!);
    expect(a.every((v, i) => v === b[i])).toBe(true);
  });
});
