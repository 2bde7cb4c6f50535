/**
 * Picks the trainer backend by name. The WebGPU backend (trainer/nerf/gpu/backend.ts, helper
 * code that needs the Dawn bindings) is loaded only when asked for, so the CPU path never
 * pulls in GPU modules.
 */
import { ConfigError } from '../../worker/errors.ts';
import type { TrainerBackend } from './backend.ts';
import { CpuTrainerBackend } from './cpu/backend.ts';

export const BACKEND_NAMES = ['cpu', 'webgpu'] as const;

export async function createTrainerBackend(name: string): Promise<TrainerBackend> {
  switch (name) {
    case 'cpu':
      return new CpuTrainerBackend();
    case 'webgpu': {
      // A variable specifier: the GPU module is optional at build time and resolved at run time.
      const spec = './gpu/backend.ts';
      let mod: { createWebGpuTrainerBackend?: () => Promise<TrainerBackend> };
      try {
        mod = (await import(spec)) as typeof mod;
      } catch (e) {
        throw new ConfigError('--backend webgpu: the WebGPU trainer backend is not part of this build (trainer/nerf/gpu/backend.ts); use --backend cpu', { cause: e });
      }
      if (typeof mod.createWebGpuTrainerBackend !== 'function') throw new ConfigError('--backend webgpu: trainer/nerf/gpu/backend.ts does not export createWebGpuTrainerBackend()');
      return mod.createWebGpuTrainerBackend();
    }
    default:
      throw new ConfigError(`--backend: expected one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
}
