import { beforeAll, describe, expect, it } from 'vitest';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { GpuRenderer } from '../../worker/render/renderer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

type Event = { kind: 'async-start' | 'async-done' | 'sync'; label: string };

/** The device with its pipeline creation calls logged in order. */
function loggingContext(ctx: GpuContext, log: Event[]): GpuContext {
  const device = new Proxy(ctx.device, {
    get(target, key) {
      if (key === 'createComputePipelineAsync') {
        return async (d: GPUComputePipelineDescriptor) => {
          log.push({ kind: 'async-start', label: d.label ?? '' });
          const p = await target.createComputePipelineAsync(d);
          log.push({ kind: 'async-done', label: d.label ?? '' });
          return p;
        };
      }
      if (key === 'createComputePipeline') {
        return (d: GPUComputePipelineDescriptor) => {
          log.push({ kind: 'sync', label: d.label ?? '' });
          return target.createComputePipeline(d);
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { ...ctx, device };
}

describe('WebGPU pipeline creation', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    ctx = await acquireGpu({ gpu: await nodeGpu() });
  });

  it('GpuRenderer.create starts every compute pipeline with createComputePipelineAsync before awaiting any of them', async () => {
    const log: Event[] = [];
    const avatar = tinyAvatar({ torso: true });
    const r = await GpuRenderer.create(avatar, { acquire: async () => loggingContext(ctx, log) });
    r.destroy();
    expect(log.filter((e) => e.kind === 'sync')).toEqual([]);
    const starts = log.filter((e) => e.kind === 'async-start').map((e) => e.label);
    // condition (landmarks x2, film layers), rays, head field, wavefront x4, torso, output.
    for (const want of ['r2t.condition.encode', 'r2t.condition.layer0', 'r2t.condition.layer2', 'r2t.rays.init', 'r2t.headField.fused', 'r2t.wavefront.march', 'r2t.torso.fused', 'r2t.output.final']) expect(starts).toContain(want);
    const firstDone = log.findIndex((e) => e.kind === 'async-done');
    expect(firstDone).toBe(starts.length);
    expect(log.filter((e) => e.kind === 'async-done')).toHaveLength(starts.length);
  });

  it("compile: 'sync' builds the same pipelines with createComputePipeline and renders the same frame", async () => {
    const avatar = tinyAvatar({ torso: false });
    const frame = { film1: new Float32Array(16).fill(0.1), film2: new Float32Array(16).fill(-0.1), pose: avatar.tensors.get('poses')!.data.slice(0, 16) as Float32Array, eye: 0.2 };
    const logAsync: Event[] = [];
    const logSync: Event[] = [];
    const a = await GpuRenderer.create(avatar, { acquire: async () => loggingContext(ctx, logAsync) });
    const s = await GpuRenderer.create(avatar, { acquire: async () => loggingContext(ctx, logSync), compile: 'sync' });
    try {
      expect(logSync.every((e) => e.kind === 'sync')).toBe(true);
      expect(logSync.map((e) => e.label).sort()).toEqual(logAsync.filter((e) => e.kind === 'async-start').map((e) => e.label).sort());
      const [fa, fs] = [await a.render(frame, ['rgba']), await s.render(frame, ['rgba'])];
      expect(Array.from(fs.rgba!)).toEqual(Array.from(fa.rgba!));
    } finally {
      a.destroy();
      s.destroy();
    }
  });
});
