/**
 * Bench of torso training steps of the WebGPU TrainerBackend against the CPU reference backend,
 * on the same pixels and parameters in the same run: the torso net's forward, backward and Adam
 * (steps/s, pixels/s), and the whole torso-stage step as the loop runs it (plus the frozen
 * head's forward over the same pixels' rays), their ratio, and the GPU memory the torso holds.
 * Preset and steps as bench/train-steps.ts (R2T_BENCH_TRAIN_PRESET, R2T_BENCH_TRAIN_STEPS).
 * Run through bench/train.ts.
 */
import type { CameraConfig } from '../worker/avatar/config.ts';
import type { GpuContext } from '../worker/gpu/device.ts';
import type { TrainerBackend } from '../trainer/nerf/backend.ts';
import { CpuTrainerBackend } from '../trainer/nerf/cpu/backend.ts';
import { WebGpuTrainerBackend } from '../trainer/nerf/gpu/backend.ts';
import { torsoBytesPerRay } from '../trainer/nerf/gpu/torso-net.ts';
import { paramGroups } from '../trainer/nerf/params.ts';
import { getPreset } from '../trainer/nerf/presets.ts';
import { Rng } from '../trainer/nerf/rng.ts';
import { torsoCoord } from '../worker/model/torso.ts';
import { microCondition, microParams, microPose, microRays } from '../tests/helpers/nerf-fixtures.ts';

export async function benchTorsoSteps(ctx: GpuContext, presetName: string, steps: number): Promise<void> {
  const preset = getPreset(presetName);
  const config = preset.config({ eyeInput: true, torso: true });
  const rays = preset.schedule.rays;
  const camera: CameraConfig = { fx: 160, fy: 160, cx: 64, cy: 64, width: 128, height: 128 };
  const params = microParams(config, 4);
  const groups = paramGroups(config);
  const lr = new Map(groups.filter((g) => g.stage === 'torso').map((g) => [g.name, g.kind === 'grid' ? preset.schedule.lrGrid : preset.schedule.lrTorsoNet]));
  const active = { head: config.head.grid.levels, condition: config.condition.grid.levels, torso: config.torso!.grid.levels };
  console.log(`\n== training steps: ${preset.name} preset, ${rays} pixels a step, torso stage ==`);

  async function run(backend: TrainerBackend) {
    await backend.init({ config, camera, groups, params });
    let netMs = 0;
    let stageMs = 0;
    // Step 0 warms up (pipeline compilation, allocation) and is not timed.
    for (let s = 0; s <= steps; s++) {
      const rng = new Rng(2000 + s);
      const pose = microPose(0.02 * s);
      const tr = microRays(config, camera, pose, rays, rng);
      const coords = new Float32Array(2 * rays);
      tr.pixels.forEach((p, i) => {
        coords[2 * i] = torsoCoord(Math.floor(p / camera.width), camera.height);
        coords[2 * i + 1] = torsoCoord(p % camera.width, camera.width);
      });
      const condition = microCondition(config, rng);
      const t0 = performance.now();
      await backend.headForward({ rays: tr, condition, activeLevels: active }, false);
      const t1 = performance.now();
      const out = await backend.torsoForward({ pose, coords, activeLevels: active }, true);
      const dColor = Float32Array.from(out.colors, (v) => (2 * (v - 0.5)) / out.colors.length);
      await backend.torsoBackward(dColor, new Float32Array(rays).fill(1 / rays));
      await backend.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr });
      // The GPU's Adam is queued, not awaited: count it in this step.
      if (backend instanceof WebGpuTrainerBackend) await ctx.device.queue.onSubmittedWorkDone();
      const t2 = performance.now();
      if (s > 0) {
        netMs += t2 - t1;
        stageMs += t2 - t0;
      }
    }
    return { net: netMs / steps, stage: stageMs / steps };
  }

  const cpu = new CpuTrainerBackend();
  const gpu = new WebGpuTrainerBackend(ctx);
  try {
    const c = await run(cpu);
    const g = await run(gpu);
    const line = (name: string, ms: number) => `${name}: ${ms.toFixed(1)} ms/step -> ${(1000 / ms).toFixed(2)} steps/s, ${((rays * 1000) / ms / 1e3).toFixed(1)} k pixels/s`;
    console.log(`device: ${ctx.caps.description} (fallback=${ctx.caps.fallback})`);
    console.log(line('webgpu backend, torso net (forward, backward, Adam)', g.net));
    console.log(line('cpu backend,    torso net (forward, backward, Adam)', c.net));
    console.log(line('webgpu backend, torso-stage step (+ frozen head forward)', g.stage));
    console.log(line('cpu backend,    torso-stage step (+ frozen head forward)', c.stage));
    console.log(`ratio webgpu vs cpu backend: torso net ${(c.net / g.net).toFixed(2)}x, torso-stage step ${(c.stage / g.stage).toFixed(2)}x (above 1 = GPU faster)`);
    const parts = Math.ceil(rays / gpu.torsoRaysPerBatch);
    console.log(`GPU memory held by the webgpu backend after torso steps: ${(gpu.bytesHeld / 2 ** 20).toFixed(1)} MiB (head and torso parameters, gradients, Adam moments, head batch of the frozen forward, torso activations of ${Math.min(rays, gpu.torsoRaysPerBatch)} pixels: ${parts} sub-batch${parts > 1 ? 'es' : ''} a step)`);
    const official = getPreset('official');
    const oc = official.config({ eyeInput: true, torso: true });
    console.log(`official preset torso: ${((torsoBytesPerRay(oc) * official.schedule.rays) / 2 ** 20).toFixed(1)} MiB in the largest torso buffer for ${official.schedule.rays} pixels unsplit (maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize})`);
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}
