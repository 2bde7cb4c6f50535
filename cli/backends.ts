/** Chooses the frame backend for the CLI. */
import type { Avatar } from '../worker/avatar/types.ts';
import { ConfigError } from '../worker/errors.ts';
import { cpuBackend, type FrameBackend } from './render-track.ts';

export async function createBackend(name: string, avatar: Avatar): Promise<FrameBackend> {
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
