/**
 * Bench of head training steps (forward, backward, Adam) of the WebGPU TrainerBackend against
 * the CPU reference backend, on the same rays and parameters in the same run: steps/s, rays/s,
 * samples/s, their ratio, and the GPU memory the WebGPU backend holds. Preset:
 * R2T_BENCH_TRAIN_PRESET, else tiny on a fallback adapter (SwiftShader) and small on a real GPU;
 * rays per step from the preset's schedule; steps: R2T_BENCH_TRAIN_STEPS, else 3 (fallback) or 20.
 * Run through bench/train.ts.
 */
import type { CameraConfig } from '../worker/avatar/config.ts';
import type { GpuContext } from '../worker/gpu/device.ts';
import type { TrainerBackend } from '../trainer/nerf/backend.ts';
import { CpuTrainerBackend } from '../trainer/nerf/cpu/backend.ts';
import { WebGpuTrainerBackend } from '../trainer/nerf/gpu/backend.ts';
import { batchRayLimit, headBytesPerSample } from '../trainer/nerf/gpu/batch-split.ts';
import { paramGroups } from '../trainer/nerf/params.ts';
import { getPreset } from '../trainer/nerf/presets.ts';
import { Rng } from '../trainer/nerf/rng.ts';
import { microCondition, microParams, microPose, microRays } from '../tests/helpers/nerf-fixtures.ts';

/** The preset and timed steps of the training-step benches on this adapter. */
export function benchTrainSettings(ctx: GpuContext): { preset: string; steps: number } {
  const preset = process.env.R2T_BENCH_TRAIN_PRESET ?? (ctx.caps.fallback ? 'tiny' : 'small');
  const steps = Number(process.env.R2T_BENCH_TRAIN_STEPS ?? (ctx.caps.fallback ? 3 : 20));
  if (!Number.isInteger(steps) || steps < 1 || steps > 10_000) throw new Error(`R2T_BENCH_TRAIN_STEPS: expected an integer in [1, 10000], got ${process.env.R2T_BENCH_TRAIN_STEPS}`);
  return { preset, steps };
}

export async function benchSteps(ctx: GpuContext): Promise<void> {
  const settings = benchTrainSettings(ctx);
  const preset = getPreset(settings.preset);
  const steps = settings.steps;
  const config = preset.config({ eyeInput: true, torso: false });
  const raysPerStep = preset.schedule.rays;
  // A 128x128 view of the head from 2.5 units, as a tiny synthetic subject frames it.
  const camera: CameraConfig = { fx: 160, fy: 160, cx: 64, cy: 64, width: 128, height: 128 };
  const params = microParams(config, 3);
  const groups = paramGroups(config);
  const lr = new Map(groups.filter((g) => g.stage === 'head').map((g) => [g.name, g.kind === 'grid' ? preset.schedule.lrGrid : preset.schedule.lrNet]));
  const active = { head: config.head.grid.levels, condition: config.condition.grid.levels, torso: 1 };
  console.log(`\n== training steps: ${preset.name} preset, ${raysPerStep} rays a step, head stage ==`);

  async function run(backend: TrainerBackend) {
    await backend.init({ config, camera, groups, params });
    let ms = 0;
    let samples = 0;
    // Step 0 warms up (pipeline compilation, allocation) and is not timed.
    for (let s = 0; s <= steps; s++) {
      const rng = new Rng(1000 + s);
      const rays = microRays(config, camera, microPose(0.02 * s), raysPerStep, rng);
      const condition = microCondition(config, rng);
      const t = performance.now();
      const out = await backend.headForward({ rays, condition, activeLevels: active }, true);
      const dRgb = Float32Array.from(out.rgb, (v) => (2 * (v - 0.5)) / out.rgb.length);
      await backend.headBackward(dRgb, new Float32Array(rays.count));
      await backend.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr });
      if (s > 0) {
        ms += performance.now() - t;
        samples += out.samples;
      }
    }
    return { ms: ms / steps, samplesPerStep: samples / steps };
  }

  const cpu = new CpuTrainerBackend();
  const gpu = new WebGpuTrainerBackend(ctx);
  try {
    const c = await run(cpu);
    const g = await run(gpu);
    const line = (name: string, r: { ms: number; samplesPerStep: number }) =>
      `${name}: ${r.ms.toFixed(0)} ms/step -> ${(1000 / r.ms).toFixed(2)} steps/s, ${((raysPerStep * 1000) / r.ms / 1e3).toFixed(1)} k rays/s, ${((r.samplesPerStep * 1000) / r.ms / 1e3).toFixed(1)} k samples/s (${r.samplesPerStep.toFixed(0)} samples/step)`;
    console.log(`device: ${ctx.caps.description} (fallback=${ctx.caps.fallback})`);
    console.log(line('webgpu backend', g));
    console.log(line('cpu backend   ', c));
    console.log(`ratio webgpu vs cpu backend: ${(c.ms / g.ms).toFixed(2)}x (above 1 = GPU faster)`);
    const sub = Math.min(gpu.raysPerBatch, raysPerStep);
    const parts = Math.ceil(raysPerStep / gpu.raysPerBatch);
    console.log(`GPU memory held by the webgpu backend: ${(gpu.bytesHeld / 2 ** 20).toFixed(1)} MiB (parameters, gradients, Adam moments, activations of ${sub} x ${config.march.maxSteps} samples: ${parts} ray sub-batch${parts > 1 ? 'es' : ''} a step)`);
    // What the official preset's 65,536-ray step needs on this adapter (trainer/nerf/gpu/batch-split.ts).
    const official = getPreset('official');
    const oc = official.config({ eyeInput: true, torso: false });
    const limit = batchRayLimit(oc, ctx.device.limits);
    console.log(`official preset on this adapter: ${(headBytesPerSample(oc) * oc.march.maxSteps * official.schedule.rays / 2 ** 30).toFixed(2)} GiB of head activations a step unsplit; at most ${limit} rays a sub-batch -> ${Math.ceil(official.schedule.rays / limit)} sub-batches a step (maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize}, maxBufferSize ${ctx.device.limits.maxBufferSize})`);
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}
