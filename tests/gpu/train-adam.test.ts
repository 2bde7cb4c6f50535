import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '../../trainer/adam.ts';
import type { AdamStep } from '../../trainer/nerf/backend.ts';
import { GpuAdam } from '../../trainer/nerf/gpu/adam.ts';
import { ParamLayout } from '../../trainer/nerf/gpu/param-layout.ts';
import { readF32 } from '../../trainer/nerf/gpu/readback.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { ConfigError } from '../../worker/errors.ts';
import { makeBuffer, STORAGE, writeData } from '../../worker/render/gpu-util.ts';
import { mulberry32 } from '../../worker/util/random.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

const GROUPS = [
  { name: 'encoder.embeddings', length: 130 },
  { name: 'sigma_net.net.0.weight', length: 5 },
  { name: 'individual_code', length: 1 },
];

function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  return worst;
}

describe('GPU Adam over flat parameter groups', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('lays groups out on 256-byte boundaries and round-trips them', () => {
    const layout = new ParamLayout(GROUPS);
    expect(layout.slots.map((s) => s.offset)).toEqual([0, 192, 256]);
    expect(layout.total).toBe(320);
    const v = new Map(GROUPS.map((g, k) => [g.name, new Float32Array(g.length).fill(k + 1)]));
    expect(layout.unpack(layout.pack(v))).toEqual(v);
    expect(() => new ParamLayout([...GROUPS, GROUPS[0]])).toThrow(/appears twice/);
    expect(() => layout.pack(new Map([['encoder.embeddings', new Float32Array(3)]]))).toThrow(/has 3 values, expected 130/);
  });

  it('matches the CPU Adam step for step, per-group learning rates, a frozen group keeping its moments and count', async () => {
    const d = ctx.device;
    const layout = new ParamLayout(GROUPS);
    const rand = mulberry32(4);
    const init = new Map(GROUPS.map((g) => [g.name, randomArray(g.length, rand)]));
    const cpuParams = new Map([...init].map(([k, v]) => [k, v.slice()]));
    const cpu = new Map(GROUPS.map((g) => [g.name, new Adam([cpuParams.get(g.name)!], { beta1: 0.9, beta2: 0.99, eps: 1e-15, clipNorm: 0 })]));
    const params = makeBuffer(d, 'test.params', 4 * layout.total, STORAGE(), layout.pack(init));
    const grads = makeBuffer(d, 'test.grads', 4 * layout.total, STORAGE());
    const adam = await GpuAdam.create(d, layout, { params, grads }, 'sync');
    try {
      const lrs = [
        new Map([['encoder.embeddings', 1e-2], ['sigma_net.net.0.weight', 5e-3], ['individual_code', 1e-3]]),
        new Map([['encoder.embeddings', 1e-2], ['individual_code', 1e-3]]), // sigma net frozen
        new Map([['encoder.embeddings', 8e-3], ['sigma_net.net.0.weight', 4e-3], ['individual_code', 1e-3]]),
      ];
      for (const lr of lrs) {
        const g = new Map(GROUPS.map((x) => [x.name, randomArray(x.length, rand, 0.1)]));
        const flat = layout.pack(g);
        // Padding between groups carries junk gradients: they must not move anything.
        for (let i = 0; i < layout.total; i++) if (flat[i] === 0) flat[i] = 7;
        writeData(d.queue, grads, flat);
        const step: AdamStep = { beta1: 0.9, beta2: 0.99, eps: 1e-15, lr };
        const enc = d.createCommandEncoder();
        adam.encode(enc, step);
        d.queue.submit([enc.finish()]);
        for (const [name, rate] of lr) cpu.get(name)!.update([g.get(name)!], rate);
      }
      const flat = await readF32(d, params, layout.total);
      const got = layout.unpack(flat);
      for (const [name, want] of cpuParams) expect(maxRelDiff(got.get(name)!, want), name).toBeLessThan(1e-5);
      // The updates moved the parameters by far more than the tolerance.
      expect(maxRelDiff(got.get('encoder.embeddings')!, init.get('encoder.embeddings')!)).toBeGreaterThan(1e-3);
      for (let i = 130; i < 192; i++) expect(flat[i]).toBe(0);
      const mo = await adam.readMoments();
      expect(mo.get('sigma_net.net.0.weight')!.step).toBe(2);
      expect(mo.get('encoder.embeddings')!.step).toBe(3);
    } finally {
      adam.destroy();
      params.destroy();
      grads.destroy();
    }
  });

  it('resumes from readMoments exactly as if uninterrupted', async () => {
    const d = ctx.device;
    const layout = new ParamLayout(GROUPS);
    const rand = mulberry32(9);
    const init = layout.pack(new Map(GROUPS.map((g) => [g.name, randomArray(g.length, rand)])));
    const gradSeq = [0, 1, 2].map(() => layout.pack(new Map(GROUPS.map((g) => [g.name, randomArray(g.length, rand, 0.05)]))));
    const step: AdamStep = { beta1: 0.9, beta2: 0.99, eps: 1e-15, lr: new Map(GROUPS.map((g) => [g.name, 1e-2])) };
    const run = async (adam: GpuAdam, grads: GPUBuffer, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        writeData(d.queue, grads, gradSeq[k]);
        const enc = d.createCommandEncoder();
        adam.encode(enc, step);
        d.queue.submit([enc.finish()]);
      }
    };
    const mk = () => ({ params: makeBuffer(d, 'p', 4 * layout.total, STORAGE(), init), grads: makeBuffer(d, 'g', 4 * layout.total, STORAGE()) });
    const a = mk();
    const straight = await GpuAdam.create(d, layout, a, 'sync');
    await run(straight, a.grads, 0, 3);
    const want = await readF32(d, a.params, layout.total);

    const b = mk();
    const first = await GpuAdam.create(d, layout, b, 'sync');
    await run(first, b.grads, 0, 2);
    const saved = await first.readMoments();
    const savedParams = await readF32(d, b.params, layout.total);
    first.destroy();
    const c = mk();
    writeData(d.queue, c.params, savedParams);
    const resumed = await GpuAdam.create(d, layout, c, 'sync');
    await resumed.writeMoments(saved);
    await run(resumed, c.grads, 2, 3);
    const got = await readF32(d, c.params, layout.total);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    straight.destroy();
    resumed.destroy();
    for (const x of [a, b, c]) for (const buf of [x.params, x.grads]) buf.destroy();
  });

  it('rejects unknown groups, bad settings and undersized buffers with the field named', async () => {
    const d = ctx.device;
    const layout = new ParamLayout(GROUPS);
    const small = makeBuffer(d, 'small', 64, STORAGE());
    const ok = makeBuffer(d, 'ok', 4 * layout.total, STORAGE());
    try {
      await expect(GpuAdam.create(d, layout, { params: small, grads: ok }, 'sync')).rejects.toThrow(/GpuAdam\.params: needs 1280 bytes/);
      const adam = await GpuAdam.create(d, layout, { params: ok, grads: ok }, 'sync');
      const enc = d.createCommandEncoder();
      expect(() => adam.encode(enc, { beta1: 0.9, beta2: 0.99, eps: 1e-15, lr: new Map([['nope', 1]]) })).toThrow(/unknown group nope/);
      expect(() => adam.encode(enc, { beta1: 1, beta2: 0.99, eps: 1e-15, lr: new Map() })).toThrow(ConfigError);
      expect(() => adam.encode(enc, { beta1: 0.9, beta2: 0.99, eps: 1e-15, lr: new Map([['individual_code', Number.NaN]]) })).toThrow(/lr\[individual_code\]/);
      await expect(adam.writeMoments(new Map([['individual_code', { m: new Float32Array(2), v: new Float32Array(2), step: 1 }]]))).rejects.toThrow(/expected 1/);
      adam.destroy();
    } finally {
      small.destroy();
      ok.destroy();
    }
  });
});
