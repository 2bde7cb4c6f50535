/**
 * CpuRenderer: one frame of the reference inference (model-spec §6-§7) on the CPU, the
 * ground truth the GPU renderer is tested against. Clarity over speed.
 */
import { validateCamera, type CameraConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { checkFilm, createHeadScratch, headSample, type HeadScratch } from './head-field.ts';
import { marchImage, type RayBatch } from './march.ts';
import { nearFar, rayDirection, rayOrigin } from './rays.ts';
import { TorsoPath } from './torso.ts';
import type { ModelWeights } from './weights.ts';

export interface FrameInput {
  film1: Float32Array;
  film2: Float32Array;
  /** 16 values, row-major camera-to-world, renderer convention. */
  pose: Float32Array;
  eye: number;
}

export interface RenderResult {
  width: number;
  height: number;
  /** H*W*3 final image, clamped to [0, 1]. */
  image: Float32Array;
  /** H*W*3 head colour accumulated by the march (premultiplied by weight). */
  headRgb: Float32Array;
  weightSum: Float32Array;
  samplesPerRay: Uint16Array;
  /** n_step of each pass of the image-wide schedule. */
  passes: number[];
}

export class CpuRenderer {
  readonly weights: ModelWeights;
  readonly camera: CameraConfig;
  private readonly scratch: HeadScratch;
  private readonly torso: TorsoPath | null;

  constructor(weights: ModelWeights, camera: CameraConfig) {
    validateCamera(camera);
    if (camera.width !== weights.width || camera.height !== weights.height) {
      throw new ConfigError(`camera: expected ${weights.width}x${weights.height} to match the background, got ${camera.width}x${camera.height}`);
    }
    this.weights = weights;
    this.camera = camera;
    this.scratch = createHeadScratch(weights);
    this.torso = weights.torso ? new TorsoPath(weights) : null;
  }

  /** Per-pixel rays, row-major, pixel (col, row) -> ray row*W + col. */
  buildRays(pose: Float32Array): RayBatch {
    const { width: W, height: H } = this.camera;
    const N = W * H;
    const rays: RayBatch = {
      count: N,
      origins: new Float32Array(N * 3),
      directions: new Float32Array(N * 3),
      nears: new Float32Array(N),
      fars: new Float32Array(N),
    };
    const o = new Float32Array(3);
    const d = new Float32Array(3);
    rayOrigin(pose, o);
    const aabb = this.weights.config.aabb;
    const minNear = this.weights.config.march.minNear;
    for (let row = 0; row < H; row++) {
      for (let col = 0; col < W; col++) {
        const i = row * W + col;
        rayDirection(this.camera, pose, col, row, d);
        rays.origins.set(o, i * 3);
        rays.directions.set(d, i * 3);
        const [near, far] = nearFar(o, d, aabb, minNear);
        rays.nears[i] = near;
        rays.fars[i] = far;
      }
    }
    return rays;
  }

  render(frame: FrameInput): RenderResult {
    checkFilm(this.weights, frame.film1, frame.film2);
    if (!(frame.pose instanceof Float32Array) || frame.pose.length !== 16) throw new ConfigError(`frame.pose: expected 16 float32 values, got ${frame.pose?.length}`);
    for (let i = 0; i < 16; i++) if (!Number.isFinite(frame.pose[i])) throw new ConfigError(`frame.pose[${i}]: expected a finite number, got ${frame.pose[i]}`);
    if (!Number.isFinite(frame.eye)) throw new ConfigError(`frame.eye: expected a finite number, got ${frame.eye}`);

    const { width: W, height: H } = this.camera;
    const w = this.weights;
    const rays = this.buildRays(frame.pose);
    const scratch = this.scratch;
    const march = marchImage(rays, w.bitfield, w.config.march, (x, d, out) => headSample(w, frame.film1, frame.film2, frame.eye, x, d, scratch, out));

    let bg = w.background;
    if (this.torso) {
      bg = new Float32Array(w.background.length);
      this.torso.composite(frame.pose, w.background, W, H, bg);
    }
    const image = new Float32Array(W * H * 3);
    for (let i = 0; i < W * H; i++) {
      const rest = 1 - march.weightSum[i];
      for (let k = 0; k < 3; k++) {
        const v = march.rgb[i * 3 + k] + rest * bg[i * 3 + k];
        image[i * 3 + k] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
    return { width: W, height: H, image, headRgb: march.rgb, weightSum: march.weightSum, samplesPerRay: march.samplesPerRay, passes: march.passes };
  }
}

/** uint8 RGBA by truncation, floor(v*255), as the reference writes its frames; alpha 255. */
export function toRgba8(image: Float32Array, w: number, h: number): Uint8ClampedArray {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || image.length !== w * h * 3) {
    throw new ConfigError(`toRgba8: expected ${w}x${h}x3 values, got ${image.length}`);
  }
  const out = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) {
      const v = Math.floor(Math.fround(image[i * 3 + k] * 255));
      out[i * 4 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}
