import { beforeAll, describe, expect, it } from 'vitest';
import { defaultOffsets, type ModelConfig } from '../../worker/avatar/config.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { makeBuffer, STORAGE } from '../../worker/render/gpu-util.ts';
import { createHeadGrads, createHeadSampleCache, headSampleBackward, headSampleForward } from '../../trainer/nerf/cpu/head-sample.ts';
import { headNet } from '../../trainer/nerf/cpu/network.ts';
import { HeadNetGpu } from '../../trainer/nerf/gpu/head-net.ts';
import { ParamLayout } from '../../trainer/nerf/gpu/param-layout.ts';
import { readF32 } from '../../trainer/nerf/gpu/readback.ts';
import { initParams, paramGroups } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { oneLevelGrid } from '../helpers/model-fixtures.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

/** Small but complete head: hashed 3-level grid (collisions), eye input, SH degree 4, individual code. */
function smallConfig(): ModelConfig {
  return {
    head: {
      grid: { inputDim: 3, levels: 3, featuresPerLevel: 2, baseResolution: 4, finestResolution: 16, gridType: 'hash', offsets: defaultOffsets(3, 3, 4, 16, 6) },
      eyeInput: true,
      hiddenDim: 8,
      geoFeatDim: 5,
      colorHiddenDim: 7,
      individualDim: 3,
      shDegree: 4,
    },
    condition: { grid: oneLevelGrid(3, 1, 4), numLandmarks: 2, window: 3, hiddenDim: 4, lipSmoothing: 0.35 },
    torso: null,
    march: { gridResolution: 128, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: [-1, -0.5, -1, 1, 0.5, 1],
  };
}

/** Largest |a - b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  expect(norm).toBeGreaterThan(0);
  return worst / norm;
}

describe('GPU head field forward and backward vs the CPU reference (trainer/nerf/cpu/head-sample.ts)', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('matches sigma, rgb and every head gradient over 700 samples, with 2 of 3 grid levels released', async () => {
    const d = ctx.device;
    const config = smallConfig();
    const rng = new Rng(17);
    const params = initParams(config, rng);
    // Grid values well above the 1e-4 init, so features and their gradients matter.
    const table = params.get('encoder.embeddings')!;
    for (let i = 0; i < table.length; i++) table[i] = (rng.next() * 2 - 1) * 0.5;
    const layout = new ParamLayout(paramGroups(config));
    const H = config.head.hiddenDim;
    const film1 = Float32Array.from({ length: 2 * H }, () => (rng.next() * 2 - 1) * 0.3);
    const film2 = Float32Array.from({ length: 2 * H }, () => (rng.next() * 2 - 1) * 0.3);
    const n = 700;
    const eye = 0.37;
    const active = 2;
    // A few positions just outside the cube: zero features, no table gradient.
    const samples = new Float32Array(8 * n);
    const dField = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) samples[4 * i + k] = (rng.next() * 2 - 1) * 1.05;
      const dir = [rng.normal(), rng.normal(), rng.normal()];
      const len = Math.hypot(dir[0], dir[1], dir[2]);
      for (let k = 0; k < 3; k++) samples[4 * (n + i) + k] = dir[k] / len;
      for (let k = 0; k < 4; k++) dField[4 * i + k] = rng.next() * 2 - 1;
    }

    // CPU reference, sample by sample.
    const net = headNet(config, params);
    const cache = createHeadSampleCache(net);
    const grads = createHeadGrads(net);
    const f1 = Float64Array.from(film1);
    const f2 = Float64Array.from(film2);
    const fieldRef = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      headSampleForward(net, f1, f2, eye, active, samples.subarray(4 * i, 4 * i + 3), samples.subarray(4 * (n + i), 4 * (n + i) + 3), cache);
      fieldRef.set([cache.rgb[0], cache.rgb[1], cache.rgb[2], cache.sigma], 4 * i);
      headSampleBackward(net, f1, f2, active, dField[4 * i + 3], dField.subarray(4 * i, 4 * i + 3), cache, grads);
    }

    const S = STORAGE();
    const io = {
      params: makeBuffer(d, 'params', 4 * layout.total, S, layout.pack(params)),
      grads: makeBuffer(d, 'grads', 4 * layout.total, S),
      samples: makeBuffer(d, 'samples', samples.byteLength, S, samples),
      field: makeBuffer(d, 'field', 16 * n, S),
      dField: makeBuffer(d, 'dField', 16 * n, S, dField),
    };
    const head = await HeadNetGpu.create(d, config, layout, n, io, 'sync');
    try {
      head.setFrame(n, eye, active, film1, film2);
      let enc = d.createCommandEncoder();
      head.encodeForward(enc);
      d.queue.submit([enc.finish()]);
      enc = d.createCommandEncoder();
      head.encodeBackward(enc);
      d.queue.submit([enc.finish()]);
      expect(relErr(await readF32(d, io.field, 4 * n), fieldRef)).toBeLessThan(1e-5);
      const g = layout.unpack(await readF32(d, io.grads, layout.total));
      expect(relErr(g.get('sigma_net.net.0.weight')!, grads.sigma[0])).toBeLessThan(1e-4);
      expect(relErr(g.get('sigma_net.net.1.weight')!, grads.sigma[1])).toBeLessThan(1e-4);
      expect(relErr(g.get('sigma_net.net.2.weight')!, grads.sigma[2])).toBeLessThan(1e-4);
      expect(relErr(g.get('color_net.net.0.weight')!, grads.color[0])).toBeLessThan(1e-4);
      expect(relErr(g.get('color_net.net.1.weight')!, grads.color[1])).toBeLessThan(1e-4);
      expect(relErr(g.get('individual_code')!, grads.individual)).toBeLessThan(1e-4);
      const tableGrad = g.get('encoder.embeddings')!;
      expect(relErr(tableGrad, grads.headTable)).toBeLessThan(1e-4);
      // The third level is not released: its table gets nothing.
      const lv2 = config.head.grid.offsets[2] * 2;
      expect(tableGrad.subarray(lv2).every((v) => v === 0)).toBe(true);
      expect(tableGrad.subarray(0, lv2).some((v) => v !== 0)).toBe(true);
      const [df1, df2] = await head.readFilmGrads();
      expect(relErr(df1, grads.film[0])).toBeLessThan(1e-4);
      expect(relErr(df2, grads.film[1])).toBeLessThan(1e-4);
      expect(head.bytesHeld).toBeGreaterThan(4 * n * 8);
    } finally {
      head.destroy();
      for (const b of Object.values(io)) b.destroy();
    }
  });

  it('rejects a batch larger than maxSamples, unreleased-level counts out of range and wrong FiLM widths', async () => {
    const d = ctx.device;
    const config = smallConfig();
    const layout = new ParamLayout(paramGroups(config));
    const S = STORAGE();
    const io = {
      params: makeBuffer(d, 'params', 4 * layout.total, S),
      grads: makeBuffer(d, 'grads', 4 * layout.total, S),
      samples: makeBuffer(d, 'samples', 32 * 10, S),
      field: makeBuffer(d, 'field', 16 * 10, S),
      dField: makeBuffer(d, 'dField', 16 * 10, S),
    };
    try {
      await expect(HeadNetGpu.create(d, config, layout, 11, io, 'sync')).rejects.toThrow(/head\.samples: needs 352 bytes/);
      const head = await HeadNetGpu.create(d, config, layout, 10, io, 'sync');
      const film = new Float32Array(16);
      expect(() => head.encodeForward(d.createCommandEncoder())).toThrow(/setFrame must come before/);
      expect(() => head.setFrame(11, 0, 1, film, film)).toThrow(/head\.n: expected an integer in \[0, 10\]/);
      expect(() => head.setFrame(5, 0, 4, film, film)).toThrow(/activeLevels\.head/);
      expect(() => head.setFrame(5, 0, 1, new Float32Array(3), film)).toThrow(/film1: expected 16 values/);
      head.destroy();
    } finally {
      for (const b of Object.values(io)) b.destroy();
    }
  });
});
