/**
 * Node WebGPU for tests and the bench: the `webgpu` package (Dawn) over SwiftShader. Needs
 * LD_LIBRARY_PATH and VK_ICD_FILENAMES set before the process starts (the dynamic loader reads
 * them once): tests/gpu/vitest.config.ts sets them for its forks; scripts use WEBGPU_ENV.
 */
import { existsSync } from 'node:fs';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';

export const SWIFTSHADER_DIR = '/usr/lib/chromium';
export const WEBGPU_ENV = {
  LD_LIBRARY_PATH: [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  VK_ICD_FILENAMES: `${SWIFTSHADER_DIR}/vk_swiftshader_icd.json`,
};

let gpu: GPU | null = null;

export async function nodeGpu(): Promise<GPU> {
  if (gpu) return gpu;
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  gpu = webgpu.create([]) as GPU;
  return gpu;
}

/** The Node GPU entry point is usable: the SwiftShader driver exists and the env is set. */
export function nodeGpuConfigured(): boolean {
  return existsSync(WEBGPU_ENV.VK_ICD_FILENAMES) && (process.env.LD_LIBRARY_PATH ?? '').includes(SWIFTSHADER_DIR);
}

export async function nodeGpuContext(): Promise<GpuContext> {
  return acquireGpu({ gpu: await nodeGpu() });
}

/** PSNR in dB of two images with values in [0,1]. */
export function psnr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`psnr: length ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

let nullEntry: GPU | null = null;

/**
 * Dawn's null backend from the same `webgpu` package: it executes nothing, but its adapter
 * offers every feature, shader-f16 included, and createShaderModule runs Dawn's full WGSL front
 * end (Tint's parser and resolver). It is how the f16 shaders get type-checked on machines
 * whose only real adapter (SwiftShader) has no shader-f16. Its limits are WebGPU's defaults.
 */
export async function nullBackendGpu(): Promise<GPU> {
  if (nullEntry) return nullEntry;
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  nullEntry = webgpu.create(['backend=null']) as GPU;
  return nullEntry;
}

export interface RecordedModule {
  label: string;
  code: string;
  module: GPUShaderModule;
}

/** A GPUDevice whose createShaderModule also records every module's label and WGSL. */
export function recordingDevice(device: GPUDevice, out: RecordedModule[]): GPUDevice {
  return new Proxy(device, {
    get(target, key) {
      if (key === 'createShaderModule') {
        return (desc: GPUShaderModuleDescriptor) => {
          const module = target.createShaderModule(desc);
          out.push({ label: desc.label ?? '', code: desc.code, module });
          return module;
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}
