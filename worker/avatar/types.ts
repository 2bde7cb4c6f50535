/**
 * The in-memory avatar: what the .r2t reader returns, what the importer and the synthetic
 * builders produce, and what the CPU reference model and the GPU renderer consume.
 */
import type { CameraConfig, DType, ModelConfig } from './config.ts';

export const AVATAR_FORMAT = 'r2talker-avatar';
export const AVATAR_FORMAT_VERSION = 1;

export type TensorData = Float32Array | Uint16Array | Uint8Array | Int32Array;

/** A named tensor. float16 data is kept as raw IEEE half bits in a Uint16Array. */
export interface Tensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export interface Provenance {
  /** e.g. "import", "synthetic", "trainer" */
  source: string;
  /** free-form details: checkpoint file name, epoch, global_step, tool version ... */
  [key: string]: string | number | boolean | null;
}

export interface LandmarkStats {
  /** per-number mean over the statistics track, length numLandmarks*3 */
  mean: Float32Array;
  /** per-number unbiased std, length numLandmarks*3 */
  std: Float32Array;
  /** how many frames produced these statistics */
  frames: number;
}

export interface Avatar {
  name: string;
  config: ModelConfig;
  camera: CameraConfig;
  /**
   * Model weights and fields, named as in `expectedTensors(config)`.
   * Besides those: `poses` [N,4,4] float32 (renderer convention, camera-to-world, already
   * converted per model-spec §1), `background` [H,W,3] uint8 RGB at camera size,
   * optional `eye` [N] float32 (per-pose eye values), optional `landmark_mean` / `landmark_std`
   * [numLandmarks*3] float32, optional `landmark_source_mean` / `landmark_source_std` (the same
   * shape: the person's own statistics, where the landmarks were mapped into another space;
   * worker/model/landmark-map.ts).
   */
  tensors: Map<string, Tensor>;
  /** Landmark normalisation statistics, or null when the avatar does not carry them. */
  landmarkStats: LandmarkStats | null;
  /** Optional embedded landmark-generator ONNX model bytes. */
  generator: Uint8Array | null;
  provenance: Provenance;
}
