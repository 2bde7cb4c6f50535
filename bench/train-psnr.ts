/**
 * Bench of the time a head stage takes to reach a held-out PSNR on a small synthetic subject
 * (the analytic talking head of the tests, 32x32, 30 frames), on the CPU backend and on the
 * WebGPU backend, same seed: wall time from the start of training (held-out evaluations
 * included, every 20 steps) to the first evaluation at or above the target. Target:
 * R2T_BENCH_PSNR_TARGET (dB, default 22); steps at most R2T_BENCH_PSNR_STEPS (default 400; on a
 * software adapter the WebGPU run stops at 40 steps, where it reports its best PSNR instead).
 * Run through bench/train.ts. The 15-minute CPU target on a 128x128 subject is measured by the
 * README's command, not here (it takes minutes).
 */
import type { GpuContext } from '../worker/gpu/device.ts';
import type { TrainerBackend } from '../trainer/nerf/backend.ts';
import { CpuTrainerBackend } from '../trainer/nerf/cpu/backend.ts';
import { TrainingData } from '../trainer/nerf/data.ts';
import { WebGpuTrainerBackend } from '../trainer/nerf/gpu/backend.ts';
import { trainNerf, type NerfTrainOptions } from '../trainer/nerf/loop.ts';
import { nodeImageCodec } from '../worker/subject/images.node.ts';
import { openSubject } from '../worker/subject/reader.ts';
import { writeAnalyticSubject } from '../tests/helpers/nerf-subject.ts';

function envNumber(name: string, fallback: number, lo: number, hi: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!(v >= lo && v <= hi)) throw new Error(`${name}: expected a number in [${lo}, ${hi}], got ${process.env[name]}`);
  return v;
}

export async function benchTimeToPsnr(ctx: GpuContext): Promise<void> {
  const target = envNumber('R2T_BENCH_PSNR_TARGET', 22, 1, 60);
  const maxSteps = Math.round(envNumber('R2T_BENCH_PSNR_STEPS', 400, 20, 100_000));
  const files = await writeAnalyticSubject({ size: 32, frames: 30 });
  const data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
  const evalEvery = 20;
  console.log(`\n== training: time to a held-out PSNR of ${target} dB (head stage, tiny preset, 256 rays a step, 32x32 analytic subject, evaluation every ${evalEvery} steps on ${Math.min(3, data.val?.split.frames.length ?? 0)} held-out frames) ==`);
  console.log(`device: ${ctx.caps.description} (fallback=${ctx.caps.fallback})`);

  async function run(name: string, backend: TrainerBackend, steps: number): Promise<void> {
    const ctrl = new AbortController();
    let reached: { step: number; seconds: number; psnr: number } | null = null;
    let best = -Infinity;
    const t0 = performance.now();
    const opts: NerfTrainOptions = { preset: 'tiny', stages: ['head'], rays: 256, seed: 1, eyeInput: true, progressive: false, evalEvery, evalFrames: 3, checkpointEvery: 0, resume: false, iters: steps, signal: ctrl.signal };
    const io = { readCheckpoint: async () => null, writeCheckpoint: async () => {}, writeAvatar: async () => {} };
    const res = await trainNerf(backend, data, {
      ...opts,
      onProgress: (p) => {
        if (p.psnr === null || p.step % evalEvery !== 0) return;
        best = Math.max(best, p.psnr);
        if (!reached && p.psnr >= target) {
          reached = { step: p.step, seconds: (performance.now() - t0) / 1000, psnr: p.psnr };
          ctrl.abort();
        }
      },
    }, io).catch((e: unknown) => {
      if (!ctrl.signal.aborted) throw e;
      return null;
    });
    const total = (performance.now() - t0) / 1000;
    // The stage's last evaluation comes after its last progress report.
    const last = res?.history[res.history.length - 1];
    if (last) best = Math.max(best, last.psnr);
    if (!reached && last && last.psnr >= target) reached = { step: last.step, seconds: total, psnr: last.psnr };
    const r = reached as { step: number; seconds: number; psnr: number } | null;
    if (r) console.log(`${name}: ${r.seconds.toFixed(1)} s to ${r.psnr.toFixed(2)} dB (step ${r.step})`);
    else console.log(`${name}: not reached within ${steps} steps (${total.toFixed(1)} s; best ${best.toFixed(2)} dB)`);
  }

  await run('cpu backend   ', new CpuTrainerBackend(), maxSteps);
  await run('webgpu backend', new WebGpuTrainerBackend(ctx), ctx.caps.fallback ? Math.min(40, maxSteps) : maxSteps);
}
