/**
 * Renders a landmark track with an avatar to numbered PNG frames: the shared core of
 * `render` and `demo`. Backends sit behind FrameBackend so the CLI does not care which
 * one produced the pixels.
 */
import path from 'node:path';
import type { Avatar } from '../worker/avatar/types.ts';
import { toFloat32 } from '../worker/avatar/tensor.ts';
import { LIMITS } from '../worker/avatar/config.ts';
import { ConfigError, FormatError } from '../worker/errors.ts';
import { resizeArea } from '../worker/io/resize.ts';
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

export interface RenderFramesOptions {
  avatar: Avatar;
  /** [T, numLandmarks, 3] float32 */
  track: Float32Array;
  frames: number;
  /** how many frames to render (from the start of the track) */
  limit: number;
  backend: FrameBackend;
  progress: Progress;
  /** receives frame i (RGBA, camera size) before frame i+1 is rendered */
  onFrame(index: number, rgba: Uint8ClampedArray): Promise<void>;
}

/** Renders frames 0..limit-1 of a track in order, handing each to `onFrame` as it is done. */
export async function renderFrames(opts: RenderFramesOptions): Promise<{ frames: number; seconds: number }> {
  const { avatar, track, frames, backend, progress } = opts;
  const weights = loadModelWeights(avatar);
  const poses = avatar.tensors.get('poses');
  if (!poses) throw FormatError.avatar('tensors/poses', 'missing');
  const eye = avatar.tensors.get('eye');
  const inputs = prepareFrames(weights, toFloat32(poses), poses.shape[0], track, frames, {
    eye: eye ? toFloat32(eye) : undefined,
  });
  const start = performance.now();
  let i = 0;
  try {
    for (const frame of inputs) {
      if (i >= opts.limit) break;
      await opts.onFrame(i, await backend.render(frame));
      i++;
      progress.update(i, opts.limit, `frame ${i}/${opts.limit}`);
    }
  } finally {
    progress.stop();
  }
  return { frames: i, seconds: (performance.now() - start) / 1000 };
}

export async function renderTrack(opts: RenderTrackOptions): Promise<RenderTrackSummary> {
  const { width, height } = opts.avatar.camera;
  const files: string[] = [];
  const r = await renderFrames({
    ...opts,
    async onFrame(i, rgba) {
      const file = path.join(opts.outDir, `frame_${String(i).padStart(4, '0')}.png`);
      await writeFileAtomic(file, encodePng({ width, height, rgb: rgbaToRgb(rgba) }));
      files.push(file);
    },
  });
  return { ...r, files };
}

/** Parses --size WxH. */
export function parseSize(value: string): { width: number; height: number } {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(value.trim());
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!m || width < 2 || height < 2 || width > LIMITS.maxImageSide || height > LIMITS.maxImageSide) {
    throw new ConfigError(`--size: expected WxH with sides in [2, ${LIMITS.maxImageSide}] (e.g. 256x256), got ${JSON.stringify(value)}`);
  }
  return { width, height };
}

/**
 * The avatar seen by a camera of another resolution: intrinsics scaled per axis and the
 * background resampled, so the renderer draws at that size (not an upscaled picture).
 */
export function scaleAvatar(avatar: Avatar, width: number, height: number): Avatar {
  const cam = avatar.camera;
  if (cam.width === width && cam.height === height) return avatar;
  const bg = avatar.tensors.get('background');
  if (!bg || bg.dtype !== 'uint8') throw FormatError.avatar('tensors/background', `expected a uint8 [H,W,3] image, got ${bg ? bg.dtype : 'none'}`);
  const sx = width / cam.width;
  const sy = height / cam.height;
  const tensors = new Map(avatar.tensors);
  tensors.set('background', { ...bg, shape: [height, width, 3], data: resizeArea(bg.data as Uint8Array, cam.width, cam.height, width, height, 3) });
  return { ...avatar, camera: { fx: cam.fx * sx, fy: cam.fy * sy, cx: cam.cx * sx, cy: cam.cy * sy, width, height }, tensors };
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
