/**
 * Micro models and inputs for the NeRF trainer's gradient checks: every dimension small
 * enough that central differences over every parameter group run in milliseconds, but every
 * mechanism present (2 grid levels with table wrap-around, FiLM, eye input, SH, torso).
 */
import { defaultOffsets, type CameraConfig, type GridConfig, type ModelConfig } from '../../worker/avatar/config.ts';
import { nearFar, rayDirection, rayOrigin } from '../../worker/model/rays.ts';
import type { FrameCondition, ParamSet, TrainRays } from '../../trainer/nerf/backend.ts';
import { initParams } from '../../trainer/nerf/params.ts';
import { Rng } from '../../trainer/nerf/rng.ts';

function grid(inputDim: 2 | 3, features: number, log2T: number): GridConfig {
  return { inputDim, levels: 2, featuresPerLevel: features, baseResolution: 4, finestResolution: 8, gridType: 'tiled', offsets: defaultOffsets(inputDim, 2, 4, 8, log2T) };
}

export function microConfig(opts: { torso?: boolean; eyeInput?: boolean } = {}): ModelConfig {
  return {
    head: { grid: grid(3, 2, 8), eyeInput: opts.eyeInput ?? true, hiddenDim: 6, geoFeatDim: 5, colorHiddenDim: 6, individualDim: 4, shDegree: 4 },
    condition: { grid: grid(3, 2, 8), numLandmarks: 68, window: 5, hiddenDim: 5, lipSmoothing: 0.35 },
    torso: opts.torso === false ? null : { grid: grid(2, 2, 6), deformHiddenDim: 6, netHiddenDim: 5, individualDim: 8, positionDegree: 3, poseDegree: 2, densityResolution: 8 },
    march: { gridResolution: 8, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: [-1, -0.5, -1, 1, 0.5, 1],
  };
}

export function microCamera(): CameraConfig {
  return { fx: 10, fy: 10, cx: 4, cy: 4, width: 8, height: 8 };
}

/** Parameters with grids scaled up from the reference's +-1e-4 so features (and their gradients) are not negligible. */
export function microParams(config: ModelConfig, seed: number, gridScale = 0.5): ParamSet {
  const rng = new Rng(seed);
  const p = initParams(config, rng);
  for (const [name, a] of p) {
    if (name.endsWith('.embeddings')) for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * gridScale;
    // Enough density for rays to be partly opaque: the sigma logit row gets a positive offset.
    if (name === 'sigma_net.net.2.weight') for (let i = 0; i < 6; i++) a[i] = Math.abs(a[i]) + 0.3;
  }
  return p;
}

/** A camera 2.5 units in front of the head, looking along +z (renderer convention). */
export function microPose(angle = 0.1): Float32Array {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return Float32Array.from([c, 0, s, 0.05, 0, 1, 0, 0.02, -s, 0, c, -2.5, 0, 0, 0, 1]);
}

export function microRays(config: ModelConfig, camera: CameraConfig, pose: Float32Array, count: number, rng: Rng): TrainRays & { pixels: number[] } {
  const rays: TrainRays & { pixels: number[] } = {
    count,
    origins: new Float32Array(count * 3),
    directions: new Float32Array(count * 3),
    nears: new Float32Array(count),
    fars: new Float32Array(count),
    jitter: new Float32Array(count),
    pixels: [],
  };
  const o = new Float32Array(3);
  const d = new Float32Array(3);
  rayOrigin(pose, o);
  for (let i = 0; i < count; i++) {
    const col = 1 + rng.int(camera.width - 2);
    const row = 1 + rng.int(camera.height - 2);
    rayDirection(camera, pose, col, row, d);
    rays.origins.set(o, 3 * i);
    rays.directions.set(d, 3 * i);
    const [near, far] = nearFar(o, d, config.aabb, config.march.minNear);
    rays.nears[i] = near;
    rays.fars[i] = far;
    rays.jitter[i] = rng.next();
    rays.pixels.push(row * camera.width + col);
  }
  return rays;
}

export function microCondition(config: ModelConfig, rng: Rng): FrameCondition {
  const n = config.condition.window * config.condition.numLandmarks * 3;
  return { points: Float32Array.from({ length: n }, () => rng.next() * 1.6 - 0.8), eye: 0.3 };
}

/**
 * Central difference of f w.r.t. params[name][i], with the step as float32 actually stores it
 * (p + h and p - h are rounded, so the denominator is their true distance).
 */
export async function centralDifference(params: ParamSet, name: string, i: number, h: number, f: () => Promise<number>): Promise<number> {
  const a = params.get(name)!;
  const old = a[i];
  a[i] = old + h;
  const up = a[i];
  const lp = await f();
  a[i] = old - h;
  const down = a[i];
  const lm = await f();
  a[i] = old;
  return (lp - lm) / (up - down);
}
