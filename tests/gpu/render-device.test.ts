import { beforeAll, describe, expect, it } from 'vitest';
import { GpuError } from '../../worker/errors.ts';
import { acquireGpu } from '../../worker/gpu/device.ts';
import { GpuRenderer } from '../../worker/render/renderer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

const frameOf = (a: ReturnType<typeof tinyAvatar>) => ({
  film1: new Float32Array(16).map((_, i) => Math.sin(i) * 0.2),
  film2: new Float32Array(16).map((_, i) => Math.cos(i) * 0.2),
  pose: a.tensors.get('poses')!.data.slice(0, 16) as Float32Array,
  eye: 0.25,
});

describe('WebGPU device handling', () => {
  let gpu: GPU;
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    gpu = await nodeGpu();
  });

  it('after device.destroy() the renderer recreates its device and renders the same frame again', async () => {
    const avatar = tinyAvatar();
    const r = await GpuRenderer.create(avatar, { gpu });
    try {
      const frame = frameOf(avatar);
      const before = await r.render(frame, ['rgba', 'image']);
      const lostDevice = r.device;
      lostDevice.destroy();
      await r.context.lost;
      const after = await r.render(frame, ['rgba', 'image']);
      expect(r.recoveries).toBe(1);
      expect(r.device).not.toBe(lostDevice);
      expect(Array.from(after.rgba!)).toEqual(Array.from(before.rgba!));
      expect(after.rgba!.some((v, i) => i % 4 !== 3 && v !== 0)).toBe(true);
    } finally {
      r.destroy();
    }
  });

  it('a GPU without adapters gives GPU_UNAVAILABLE', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireGpu({ gpu: none })).rejects.toMatchObject({ code: 'GPU_UNAVAILABLE' });
    await expect(GpuRenderer.create(tinyAvatar(), { gpu: none })).rejects.toBeInstanceOf(GpuError);
  });

  it('no GPU entry point at all gives GPU_UNAVAILABLE', async () => {
    await expect(acquireGpu({})).rejects.toMatchObject({ code: 'GPU_UNAVAILABLE' });
  });

  it('a device that cannot hold the grid tables gives GPU_OUT_OF_MEMORY naming the buffer', async () => {
    const ctx = await acquireGpu({ gpu });
    const small = new Proxy(ctx.device, {
      get(target, prop) {
        if (prop === 'limits') return { ...target.limits, maxStorageBufferBindingSize: 1024, maxBufferSize: 1024 };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const err = await GpuRenderer.create(tinyAvatar(), { acquire: async () => ({ ...ctx, device: small }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).code).toBe('GPU_OUT_OF_MEMORY');
    expect((err as GpuError).message).toMatch(/r2t\.\w+/);
    ctx.device.destroy();
  });

  it('an out-of-range samplesPerInvocation is a CONFIG error naming the option, and the device stays usable', async () => {
    const ctx = await acquireGpu({ gpu });
    for (const bad of [0, 17, 2.5]) {
      const err = await GpuRenderer.create(tinyAvatar(), { acquire: async () => ctx, samplesPerInvocation: bad }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONFIG' });
      expect(String((err as Error).message)).toMatch(new RegExp(`samplesPerInvocation: expected an integer 1\\.\\.16, got ${bad}`));
    }
    const ok = await GpuRenderer.create(tinyAvatar(), { acquire: async () => ctx, samplesPerInvocation: 16 });
    expect(ok.samplesPerInvocation).toBe(16);
    ok.destroy();
    ctx.device.destroy();
  });

  it('destroy() is idempotent and render afterwards is refused', async () => {
    const r = await GpuRenderer.create(tinyAvatar(), { gpu });
    r.destroy();
    r.destroy();
    await expect(r.render(frameOf(tinyAvatar()))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
