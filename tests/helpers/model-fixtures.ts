/**
 * Hand-sized avatars for the CPU reference model tests: one-level grids, width-1 or -2
 * networks and chosen weights, so every expected value can be derived on paper.
 */
import { defaultOffsets, expectedTensors, type CameraConfig, type GridConfig, type GridType, type ModelConfig } from '../../worker/avatar/config.ts';
import type { Avatar, Tensor } from '../../worker/avatar/types.ts';
import { loadModelWeights, type ModelWeights } from '../../worker/model/weights.ts';

/** A single-level grid (scale = base - 1, R = base) holding every vertex unless `rows` says otherwise. */
export function oneLevelGrid(inputDim: 2 | 3, features: number, base: number, opts: { rows?: number; gridType?: GridType } = {}): GridConfig {
  const rows = opts.rows ?? defaultOffsets(inputDim, 1, base, base, 24)[1];
  return { inputDim, levels: 1, featuresPerLevel: features, baseResolution: base, finestResolution: base, gridType: opts.gridType ?? 'tiled', offsets: [0, rows] };
}

/**
 * Width-1 networks: head grid 1 level x 1 feature (base 2), no eye, SH degree 1, no
 * individual code; conditioning on 1 landmark over a 3-frame window (base-4 grid);
 * occupancy grid 128^3 so dt = 2*sqrt(3)/128; torso (when asked) width 1, degree-0 encodings.
 */
export function tinyModelConfig(opts: { torso?: boolean; window?: number } = {}): ModelConfig {
  return {
    head: { grid: oneLevelGrid(3, 1, 2), eyeInput: false, hiddenDim: 1, geoFeatDim: 1, colorHiddenDim: 1, individualDim: 0, shDegree: 1 },
    condition: { grid: oneLevelGrid(3, 1, 4), numLandmarks: 1, window: opts.window ?? 3, hiddenDim: 1, lipSmoothing: 0.35 },
    torso: opts.torso
      ? { grid: oneLevelGrid(2, 1, 2), deformHiddenDim: 1, netHiddenDim: 1, individualDim: 0, positionDegree: 0, poseDegree: 0, densityResolution: 8 }
      : null,
    march: { gridResolution: 128, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: [-1, -0.5, -1, 1, 0.5, 1],
  };
}

/** 8x8 pixels, narrow field of view so every ray crosses the aabb along +z. */
export function tinyCamera8(): CameraConfig {
  return { fx: 100, fy: 100, cx: 4, cy: 4, width: 8, height: 8 };
}

/** Camera at (0, 0, -3) looking along +z (identity rotation), row-major 4x4. */
export function frontPose(): Float32Array {
  return Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -3, 0, 0, 0, 1]);
}

export type TensorValues = Record<string, Float32Array | Uint8Array | number[]>;

/**
 * An Avatar with every expected tensor: values from `values` where given, else zeros
 * (bitfield: all occupied); background from `background` (default mid-grey 100).
 */
export function buildAvatar(config: ModelConfig, camera: CameraConfig, values: TensorValues = {}, background?: Uint8Array): Avatar {
  const tensors = new Map<string, Tensor>();
  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const given = values[spec.name];
    if (spec.dtypes[0] === 'uint8') {
      const data = given ? Uint8Array.from(given) : new Uint8Array(n).fill(0xff);
      tensors.set(spec.name, { name: spec.name, dtype: 'uint8', shape: spec.shape, data });
    } else {
      const data = given ? Float32Array.from(given) : new Float32Array(n);
      tensors.set(spec.name, { name: spec.name, dtype: 'float32', shape: spec.shape, data });
    }
  }
  const bg = background ?? new Uint8Array(camera.width * camera.height * 3).fill(100);
  tensors.set('background', { name: 'background', dtype: 'uint8', shape: [camera.height, camera.width, 3], data: bg });
  return { name: 'hand', config, camera, tensors, landmarkStats: null, generator: null, provenance: { source: 'test' } };
}

/**
 * The constant head of tinyModelConfig: grid features 1 everywhere, sigma = exp(logSigma),
 * colour = sigmoid(colorLogits * geo) with geo = 1 (so sigmoid(colorLogits)).
 */
export function constantHeadValues(logSigma: number, colorLogits: [number, number, number]): TensorValues {
  return {
    'encoder.embeddings': new Float32Array(32).fill(1),
    'sigma_net.net.0.weight': [1],
    'sigma_net.net.1.weight': [1],
    'sigma_net.net.2.weight': [logSigma, 1],
    'color_net.net.0.weight': [0, 1],
    'color_net.net.1.weight': colorLogits,
  };
}

export function buildWeights(config: ModelConfig, camera: CameraConfig, values: TensorValues = {}, background?: Uint8Array): ModelWeights {
  return loadModelWeights(buildAvatar(config, camera, values, background));
}

/** float32 dt of the default march: 2*sqrt(3)/128. */
export function dt128(): number {
  return Math.fround(Math.fround(2 * Math.fround(Math.sqrt(3))) / 128);
}
