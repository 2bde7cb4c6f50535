/**
 * Renders a landmark track with an avatar to numbered PNG frames: the shared core of
 * `render` and `demo`. Backends sit behind FrameBackend so the CLI does not care which
 * one produced the pixels.
 */
import path from 'node:path';
import type { Avatar } from '../worker/avatar/types.ts';
import { toFloat32 } from '../worker/avatar/tensor.ts';
import { FormatError } from '../worker/errors.ts';
import { CpuRenderer, toRgba8, type FrameInput } from '../worker/model/cpu-renderer.ts';
import { prepareFrames } from '../worker/model/track.ts';
import { loadModelWeights } from '../worker/model/weights.ts';
import { encodePng } from '../worker/io/image.node.ts';
import { writeFileAtomic } from './files.ts';
import type { Progress } from './progress.ts';

export type BackendName = 'cpu' | 'webgpu';

export interface FrameBackend {
  readonly name: string;
  render(frame: FrameInput): Promise<Uint8ClampedArray>;
  destroy(): void;
}

export interface RenderTrackOptions {
  avatar: Avatar;
  /** [T, numLandmarks, 3] float32 */
  track: Float32Array;
  frames: number;
  /** how many frames to render (from the start of the track) */
  limit: number;
  outDir: string;
  backend: FrameBackend;
  progress: Progress;
}

export interface RenderTrackSummary {
  frames: number;
  seconds: number;
  files: string[];
}

/** Accepts [T,68,3] or [T,204] landmark arrays and returns the frame count. */
export function trackFrames(shape: number[], numLandmarks: number): number {
  const per = numLandmarks * 3;
  const ok = (shape.length === 3 && shape[1] === numLandmarks && shape[2] === 3) || (shape.length === 2 && shape[1] === per);
  if (!ok || shape[0] < 1) throw FormatError.expected('INPUT_FORMAT', 'landmarks', `shape [T,${numLandmarks},3] or [T,${per}] with T >= 1`, `[${shape.join(',')}]`);
  return shape[0];
}

export function cpuBackend(avatar: Avatar): FrameBackend {
  const weights = loadModelWeights(avatar);
  const renderer = new CpuRenderer(weights, avatar.camera);
  const { width, height } = avatar.camera;
  return {
    name: 'cpu (reference)',
    async render(frame) {
      return toRgba8(renderer.render(frame).image, width, height);
    },
    destroy() {},
  };
}

export async function renderTrack(opts: RenderTrackOptions): Promise<RenderTrackSummary> {
  const { avatar, track, frames, outDir, backend, progress } = opts;
  const weights = loadModelWeights(avatar);
  const poses = avatar.tensors.get('poses');
  if (!poses) throw FormatError.avatar('tensors/poses', 'missing');
  const eye = avatar.tensors.get('eye');
  const inputs = prepareFrames(weights, toFloat32(poses), poses.shape[0], track, frames, {
    eye: eye ? toFloat32(eye) : undefined,
  });
  const { width, height } = avatar.camera;
  const files: string[] = [];
  const start = performance.now();
  let i = 0;
  for (const frame of inputs) {
    if (i >= opts.limit) break;
    const rgba = await backend.render(frame);
    const file = path.join(outDir, `frame_${String(i).padStart(4, '0')}.png`);
    await writeFileAtomic(file, encodePng({ width, height, rgb: rgbaToRgb(rgba) }));
    files.push(file);
    i++;
    progress.update(i, opts.limit, `frame ${i}/${opts.limit}`);
  }
  progress.stop();
  return { frames: i, seconds: (performance.now() - start) / 1000, files };
}

function rgbaToRgb(rgba: Uint8ClampedArray): Uint8Array {
  const n = rgba.length / 4;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return rgb;
}
