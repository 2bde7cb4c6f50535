/**
 * Video encodings for a talking head. A face on a plain background compresses far better than
 * camera footage (little motion outside the mouth and eyes, no sensor noise), so the bitrates
 * sit below the usual camera presets: ~0.08 bit per pixel per frame at the top layer.
 */
import type { OutputSize } from './options.ts';

export interface Layer {
  width: number;
  height: number;
  maxBitrate: number;
  maxFramerate: number;
  /** Down-scale factor from the top layer (1, 2, 4). */
  scaleResolutionDownBy: number;
}

const BITS_PER_PIXEL_FRAME = 0.08;
const MIN_BITRATE = 60_000;
const MAX_BITRATE = 3_000_000;
/** A layer under this height is not worth sending (the receiver would upscale mush). */
const MIN_LAYER_HEIGHT = 90;

function bitrate(width: number, height: number, fps: number): number {
  return Math.round(Math.min(MAX_BITRATE, Math.max(MIN_BITRATE, width * height * fps * BITS_PER_PIXEL_FRAME)));
}

/**
 * Simulcast layers, lowest first: full, half and quarter size where each stays at least
 * MIN_LAYER_HEIGHT tall. The lowest layer runs at most 15 fps: it is what thumbnails get.
 */
export function simulcastLayers(size: OutputSize, frameRate: number): Layer[] {
  const layers: Layer[] = [];
  for (const scale of [4, 2, 1]) {
    const width = Math.round(size.width / scale / 2) * 2;
    const height = Math.round(size.height / scale / 2) * 2;
    if (scale !== 1 && height < MIN_LAYER_HEIGHT) continue;
    const fps = scale === 4 ? Math.min(15, frameRate) : frameRate;
    layers.push({ width, height, maxBitrate: bitrate(width, height, fps), maxFramerate: fps, scaleResolutionDownBy: scale });
  }
  return layers;
}
