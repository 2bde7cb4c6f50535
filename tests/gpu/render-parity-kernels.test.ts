import { beforeAll, describe, expect, it } from 'vitest';
import type { Avatar } from '../../worker/avatar/types.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { tinyFeatureAvatar } from '../helpers/webgpu-avatar.ts';
import { expectParity } from '../helpers/parity-expect.ts';
import { runParity } from '../helpers/webgpu-parity.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

const poseOf = (a: Avatar) => a.tensors.get('poses')!.data.slice(0, 16) as Float32Array;

describe('WebGPU field kernels match the CPU reference (Node, float32)', () => {
  let gpu: GPU;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    gpu = await nodeGpu();
  });

  it("the 'loop' kernels render a tiny avatar with torso at >= 45 dB with the same samples per ray and n_step sequence", async () => {
    const a = tinyAvatar({ torso: true });
    const r = await runParity('loop-torso', a, poseOf(a), gpu, 24, { kernels: 'loop', compile: 'sync' });
    expect(r.kernels).toEqual(['loop', 'loop']);
    expectParity(r);
  });

  it("the 'loop' kernels render a tiny hashed avatar without torso or eye input at >= 45 dB", async () => {
    const a = tinyAvatar({ torso: false, eyeInput: false, gridType: 'hash', seed: 5 });
    const r = await runParity('loop-no-torso', a, poseOf(a), gpu, 24, { kernels: 'loop', compile: 'sync' });
    expect(r.kernels).toEqual(['loop', null]);
    expectParity(r);
  });

  // Points per invocation: 1 (GPUs), 3 (groups that end part-way through the samples and pixels)
  // and the software default; compositing batched (GPUs) and stepwise (software default).
  for (const [F, spi, compositing] of [[1, 1, 'batch'], [2, 3, 'stepwise'], [8, undefined, undefined]] as const) {
    it(`the fused kernels cover ${F} feature(s) per level (head and torso grids) at ${spi ?? 'the default'} point(s) per invocation, ${compositing ?? 'default'} compositing, and match at >= 45 dB`, async () => {
      const a = tinyFeatureAvatar({ headFeatures: F, torsoFeatures: F, seed: 3 + F });
      const r = await runParity(`fused-f${F}`, a, poseOf(a), gpu, 24, { kernels: 'fused', compile: 'sync', samplesPerInvocation: spi, compositing });
      expect(r.kernels).toEqual(['fused', 'fused']);
      expectParity(r);
    });
  }

  it('the fused kernels match at >= 45 dB with head widths that are not multiples of 4 (hidden 6, geo 5, colour 7: padded blocks, lane-wise FiLM reads)', async () => {
    const a = tinyFeatureAvatar({ headFeatures: 3, torsoFeatures: 2, seed: 21, headWidths: { hidden: 6, geo: 5, color: 7 } });
    for (const compositing of ['batch', 'stepwise'] as const) {
      const r = await runParity(`fused-widths-${compositing}`, a, poseOf(a), gpu, 24, { kernels: 'fused', compile: 'sync', samplesPerInvocation: 2, compositing });
      expect(r.kernels).toEqual(['fused', 'fused']);
      expect(r.compositing).toBe(compositing);
      expectParity(r);
    }
  });

  it('a march schedule too long for stepwise compositing (64 passes x 16 steps) composites in batches and still matches', async () => {
    const base = tinyFeatureAvatar({ headFeatures: 2, torsoFeatures: 2, seed: 31 });
    const a = { ...base, config: { ...base.config, march: { ...base.config.march, maxSteps: 64, maxStepsPerPass: 16 } } };
    const r = await runParity('fused-long-schedule', a, poseOf(a), gpu, 24, { kernels: 'fused', compile: 'sync', compositing: 'stepwise' });
    expect(r.compositing).toBe('batch');
    expectParity(r);
  });

  it('a torso density grid that keeps no pixel leaves the plain background under the head (fused and loop)', async () => {
    const base = tinyFeatureAvatar({ headFeatures: 2, torsoFeatures: 2, seed: 41 });
    const tensors = new Map(base.tensors);
    const grid = base.tensors.get('density_grid_torso')!;
    tensors.set('density_grid_torso', { ...grid, data: new Float32Array(grid.data.length) });
    const a = { ...base, tensors };
    for (const kernels of ['fused', 'loop'] as const) {
      const r = await runParity(`empty-torso-${kernels}`, a, poseOf(a), gpu, 24, { kernels, compile: 'sync' });
      expect(r.kernels).toEqual([kernels, kernels]);
      expectParity(r);
    }
  });

  it("the 'loop' kernels render 8 features per level at >= 45 dB (the layout the fused kernel pads)", async () => {
    const a = tinyFeatureAvatar({ headFeatures: 8, torsoFeatures: 8, seed: 11, torso: true });
    const r = await runParity('loop-f8', a, poseOf(a), gpu, 24, { kernels: 'loop', compile: 'sync' });
    expect(r.kernels).toEqual(['loop', 'loop']);
    expectParity(r);
  });
});
