/** Chooses the frame backend for the CLI. */
import type { Avatar } from '../worker/avatar/types.ts';
import { ConfigError } from '../worker/errors.ts';
import { cpuBackend, type FrameBackend } from './render-track.ts';

export type Quality = 'exact' | 'fast';

/** `--quality`: exact (the reference's frames) or fast (fewer multiply-adds, PSNR >= 38 dB against exact). */
export function parseQuality(value: string): Quality {
  if (value !== 'exact' && value !== 'fast') throw new ConfigError(`--quality: expected "exact" or "fast", got ${JSON.stringify(value)}`);
  return value;
}

export async function createBackend(name: string, avatar: Avatar, quality: Quality = 'exact'): Promise<FrameBackend> {
  if (quality === 'fast') {
    if (name === 'cpu') {
      const { fastCpuBackend } = await import('./fast-backend.ts');
      return fastCpuBackend(avatar);
    }
    if (name === 'webgpu') {
      const { webgpuFastBackend } = await import('./webgpu-backend.ts');
      return webgpuFastBackend(avatar);
    }
    throw new ConfigError(`--backend: expected "cpu" or "webgpu", got ${JSON.stringify(name)}`);
  }
  switch (name) {
    case 'cpu':
      return cpuBackend(avatar);
    case 'webgpu': {
      // Loaded on demand: the Dawn bindings are only needed (and only present) for this backend.
      const { webgpuBackend } = await import('./webgpu-backend.ts');
      return webgpuBackend(avatar);
    }
    default:
      throw new ConfigError(`--backend: expected "cpu" or "webgpu", got ${JSON.stringify(name)}`);
  }
}
