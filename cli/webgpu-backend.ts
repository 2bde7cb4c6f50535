/**
 * The CLI's WebGPU frame backend (Node only): the `webgpu` package (Dawn). On machines without
 * a GPU it runs over Chromium's SwiftShader Vulkan driver, which needs LD_LIBRARY_PATH and
 * VK_ICD_FILENAMES set before the process starts; bin/r2talker.js sets them when the driver
 * exists and R2T_NATIVE_VULKAN is unset.
 */
import type { Avatar } from '../worker/avatar/types.ts';
import { GpuError, R2TalkerError } from '../worker/errors.ts';
import { acquireGpu } from '../worker/gpu/device.ts';
import { GpuFastRenderer } from '../worker/render/fast-renderer.ts';
import { GpuRenderer } from '../worker/render/renderer.ts';
import type { FrameBackend } from './render-track.ts';

// Held for the life of the process: when the GPU object is garbage-collected Dawn tears down
// its instance under the live device and the process aborts.
let gpuEntry: GPU | null = null;

async function nodeGpuEntry(): Promise<GPU> {
  if (gpuEntry) return gpuEntry;
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (cause) {
    throw GpuError.unavailable("WebGPU: the 'webgpu' package could not be loaded", cause);
  }
  Object.assign(globalThis, webgpu.globals);
  gpuEntry = webgpu.create([]) as GPU;
  return gpuEntry;
}

export async function webgpuBackend(avatar: Avatar): Promise<FrameBackend> {
  const gpu = await nodeGpuEntry();
  const ctx = await acquireGpu({ gpu });
  // Sync compilation: under Node the webgpu package polls async work with a busy loop, which
  // made renderer construction about twice as slow as createComputePipeline here.
  const renderer = await GpuRenderer.create(avatar, { acquire: async () => ctx, compile: 'sync' });
  const { width, height } = avatar.camera;
  const kinds = renderer.kernels.filter((k) => k).join('/');
  return {
    name: `webgpu (${ctx.caps.description}, ${renderer.precision}, ${kinds} kernels, ${renderer.samplesPerInvocation} point(s) per invocation, ${renderer.compositing} compositing)`,
    async render(frame) {
      const r = await renderer.render({ film1: frame.film1, film2: frame.film2, pose: frame.pose, eye: frame.eye }, ['rgba']);
      const rgba = r.rgba!;
      if (rgba.length !== width * height * 4) throw new R2TalkerError('INTERNAL', `webgpu backend: expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
      return new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
    },
    destroy() {
      renderer.destroy();
      ctx.device.destroy();
    },
  };
}

/** `--quality fast --backend webgpu`: worker/render/fast-renderer.ts on the same Dawn device setup. */
export async function webgpuFastBackend(avatar: Avatar): Promise<FrameBackend> {
  const gpu = await nodeGpuEntry();
  const ctx = await acquireGpu({ gpu });
  let renderer: GpuFastRenderer;
  try {
    renderer = await GpuFastRenderer.create(avatar, { acquire: async () => ctx, compile: 'sync' });
  } catch (e) {
    ctx.device.destroy();
    throw e;
  }
  const { width, height } = avatar.camera;
  return {
    name: `webgpu (fast mode) (${ctx.caps.description}, ${renderer.precision}, ${renderer.samplesPerInvocation} point(s) per invocation)`,
    async render(frame) {
      const r = await renderer.render({ film1: frame.film1, film2: frame.film2, pose: frame.pose, eye: frame.eye }, ['rgba']);
      const rgba = r.rgba!;
      if (rgba.length !== width * height * 4) throw new R2TalkerError('INTERNAL', `webgpu fast backend: expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
      return new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
    },
    destroy() {
      renderer.destroy();
      ctx.device.destroy();
    },
  };
}
