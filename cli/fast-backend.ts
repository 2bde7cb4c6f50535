/** The CPU frame backend in fast mode (worker/model/fast-renderer.ts): `--quality fast`. */
import type { Avatar } from '../worker/avatar/types.ts';
import { toRgba8 } from '../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../worker/model/fast-renderer.ts';
import { loadModelWeights } from '../worker/model/weights.ts';
import type { FrameBackend } from './render-track.ts';

export function fastCpuBackend(avatar: Avatar): FrameBackend {
  const renderer = new FastCpuRenderer(loadModelWeights(avatar), avatar.camera);
  const { width, height } = avatar.camera;
  return {
    name: 'cpu (fast mode)',
    async render(frame) {
      return toRgba8(renderer.render(frame).image, width, height);
    },
    destroy() {},
  };
}
