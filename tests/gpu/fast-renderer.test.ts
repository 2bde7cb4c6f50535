import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../worker/errors.ts';
import type { GpuContext } from '../../worker/gpu/device.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { GpuFastRenderer } from '../../worker/render/fast-renderer.ts';
import { demoMouthPixels, psnr, talkingSequence } from '../helpers/fast-sequence.ts';
import { nodeGpuConfigured, nodeGpuContext } from '../helpers/webgpu.ts';

const SIZE = 40;

describe('WebGPU fast mode against its CPU reference (SwiftShader, float32)', () => {
  // Frames 56..61 of the demo track: silence, then a phrase starts at frame 60 (the mouth opens
  // from closed) while the head keeps turning.
  const seq = talkingSequence(SIZE, 62);
  let ctx: GpuContext;
  let gpu: GpuFastRenderer;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await nodeGpuContext();
    gpu = await GpuFastRenderer.create(seq.avatar, { acquire: async () => ctx, compile: 'sync', precision: 'f32' });
  });
  afterAll(() => {
    gpu?.destroy();
    ctx?.device.destroy();
  });

  it('renders the CPU reference\'s pixels frame after frame (same lattice decisions, replays, colour gating) and stays within 38 dB of exact mode', async () => {
    const cpu = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const exact = new CpuRenderer(seq.weights, seq.avatar.camera);
    for (let t = 56; t < 62; t++) {
      const fr = seq.frames[t];
      const g = await gpu.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye });
      const c = cpu.render(fr);
      const e = exact.render(fr);
      expect(psnr(g.image!, c.image), `frame ${t}: GPU fast vs CPU fast`).toBeGreaterThanOrEqual(50);
      expect(psnr(g.image!, e.image), `frame ${t}: GPU fast vs exact`).toBeGreaterThanOrEqual(38);
      expect(psnr(g.image!, e.image, demoMouthPixels(fr.pose, seq.avatar.camera)), `frame ${t}: mouth`).toBeGreaterThanOrEqual(35);
      // the same pixels are marched (to the odd one where float rounding moves a refinement
      // decision: the FiLM sensitivity is summed in another order on the GPU) ...
      expect(Math.abs(g.stats.marchedRays - c.stats.marchedRays), `frame ${t}: marched ${g.stats.marchedRays} vs ${c.stats.marchedRays}`).toBeLessThanOrEqual(0.01 * SIZE * SIZE);
      if (t > 56) expect(g.stats.marchedRays, `frame ${t}: the lattice interpolates some pixels`).toBeLessThan(SIZE * SIZE);
      expect(g.stats.replayedRays).toBe(c.stats.replayedRays);
      // ... and the GPU evaluates the reference's samples: composited one at a time, none behind
      // where a ray ends (whole passes evaluated ~1.3x as many on the built-in avatar)
      expect(Math.abs(g.stats.evaluatedSamples - c.stats.sigmaEvals), `frame ${t}: evaluated ${g.stats.evaluatedSamples} vs ${c.stats.sigmaEvals}`).toBeLessThanOrEqual(0.02 * c.stats.sigmaEvals);
      // ... and runs the colour half where the reference does (the colour gate), well under the density half's count
      expect(Math.abs(g.stats.colouredSamples - c.stats.colourEvals), `frame ${t}: coloured ${g.stats.colouredSamples} vs ${c.stats.colourEvals}`).toBeLessThanOrEqual(0.02 * c.stats.colourEvals);
      expect(g.stats.colouredSamples).toBeLessThan(g.stats.evaluatedSamples);
      expect(g.rgba!.length).toBe(SIZE * SIZE * 4);
    }
  });

  it('reset() forgets the previous frame: the next one evaluates what a first frame does', async () => {
    const fr = seq.frames[58];
    gpu.reset();
    const a = await gpu.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye }, ['image']);
    const b = await gpu.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye }, ['image']);
    gpu.reset();
    const c = await gpu.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye }, ['image']);
    expect(a.stats.marchedRays).toBe(SIZE * SIZE);
    expect(b.stats.marchedRays).toBeLessThan(SIZE * SIZE);
    expect(c.stats.evaluatedSamples).toBe(a.stats.evaluatedSamples);
    expect(c.image).toEqual(a.image);
  });

  it('a march schedule too long for stepwise compositing (64 passes x 16 steps) marches whole passes, colours every sample, and still renders the reference\'s pixels', async () => {
    const long = { ...seq.avatar, config: { ...seq.avatar.config, march: { ...seq.avatar.config.march, maxSteps: 64, maxStepsPerPass: 16 } } };
    const batch = await GpuFastRenderer.create(long, { acquire: async () => ctx, compile: 'sync', precision: 'f32' });
    const cpu = new FastCpuRenderer(loadModelWeights(long), long.camera);
    try {
      for (let t = 58; t < 61; t++) {
        const fr = seq.frames[t];
        const g = await batch.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye }, ['image']);
        const c = cpu.render(fr);
        expect(psnr(g.image!, c.image), `frame ${t}`).toBeGreaterThanOrEqual(50);
        expect(g.stats.colouredSamples).toBe(g.stats.evaluatedSamples);
        expect(g.stats.evaluatedSamples).toBeGreaterThanOrEqual(c.stats.sigmaEvals);
      }
    } finally {
      batch.destroy();
    }
  });

  it('without the colour gate (images whose geometry features do not fit a binding) colours every evaluated sample and renders the same pixels', async () => {
    const plain = await GpuFastRenderer.create(seq.avatar, { acquire: async () => ctx, compile: 'sync', precision: 'f32', colourGate: false });
    const cpu = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    try {
      for (let t = 58; t < 61; t++) {
        const fr = seq.frames[t];
        const g = await plain.render({ film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye }, ['image']);
        const c = cpu.render(fr);
        expect(psnr(g.image!, c.image), `frame ${t}`).toBeGreaterThanOrEqual(50);
        expect(g.stats.colouredSamples).toBe(g.stats.evaluatedSamples);
        expect(Math.abs(g.stats.evaluatedSamples - c.stats.sigmaEvals)).toBeLessThanOrEqual(0.02 * c.stats.sigmaEvals);
      }
    } finally {
      plain.destroy();
    }
  });

  it('refuses bad options and bad frames with specific errors', async () => {
    await expect(GpuFastRenderer.create(seq.avatar, { acquire: async () => ctx, fast: { marginSteps: -1 } })).rejects.toThrow(/marginSteps/);
    const fr = seq.frames[0];
    await expect(gpu.render({ film1: fr.film1, film2: fr.film2, pose: new Float32Array(15), eye: 0 })).rejects.toThrow(ConfigError);
    await expect(gpu.render({ film1: fr.film1.subarray(1), film2: fr.film2, pose: fr.pose, eye: 0 })).rejects.toThrow(/film1/);
  });
});
