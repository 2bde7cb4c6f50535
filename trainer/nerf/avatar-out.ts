/**
 * Trained parameters -> an ordinary Avatar (.r2t via worker/avatar/writer.ts), the same thing
 * the importer produces, so the extension, `render` and `train-generator` take it as is.
 * A head-only result (torso not trained yet) is written without a torso: the renderer then
 * composites the head over bc.jpg.
 */
import type { CameraConfig, ModelConfig } from '../../worker/avatar/config.ts';
import { expectedTensors } from '../../worker/avatar/config.ts';
import type { Avatar, Provenance, Tensor } from '../../worker/avatar/types.ts';
import { ConfigError } from '../../worker/errors.ts';
import { LANDMARK_SOURCE_MEAN, LANDMARK_SOURCE_STD, LANDMARK_STD_FLOOR } from '../../worker/model/landmark-map.ts';
import type { ParamSet } from './backend.ts';
import type { TrainingData } from './data.ts';

/** Smallest landmark std written to the avatar. */
export const STD_FLOOR = LANDMARK_STD_FLOOR;

export interface AvatarParts {
  name: string;
  config: ModelConfig;
  camera: CameraConfig;
  params: ParamSet;
  bitfield: Uint8Array;
  /** the torso's 2-D density grid, or null when the torso is not trained (no torso written) */
  torsoDensity: Float32Array | null;
  data: TrainingData;
  provenance: Provenance;
}

export function buildAvatar(p: AvatarParts): Avatar {
  const config: ModelConfig = p.torsoDensity ? p.config : { ...p.config, torso: null };
  const tensors = new Map<string, Tensor>();
  for (const spec of expectedTensors(config)) {
    if (spec.name === 'density_bitfield') {
      tensors.set(spec.name, { name: spec.name, dtype: 'uint8', shape: spec.shape, data: p.bitfield });
      continue;
    }
    if (spec.name === 'density_grid_torso') {
      tensors.set(spec.name, { name: spec.name, dtype: 'float32', shape: spec.shape, data: p.torsoDensity! });
      continue;
    }
    const data = p.params.get(spec.name);
    if (!data) throw new ConfigError(`buildAvatar: no trained values for ${spec.name}`);
    tensors.set(spec.name, { name: spec.name, dtype: 'float32', shape: spec.shape, data });
  }
  const train = p.data.train;
  const n = train.split.frames.length;
  tensors.set('poses', { name: 'poses', dtype: 'float32', shape: [n, 4, 4], data: train.split.poses.slice() });
  tensors.set('eye', { name: 'eye', dtype: 'float32', shape: [n], data: train.split.eye.slice() });
  tensors.set('background', { name: 'background', dtype: 'uint8', shape: [p.camera.height, p.camera.width, 3], data: p.data.backgroundBytes });
  const stats = train.stats;
  // A coordinate that never moves in the training track has std 0, which the .r2t format
  // refuses (the normalisation divides by it). Flooring it keeps that coordinate pinned to its
  // mean, which is what the model saw during training.
  const std = Float32Array.from(stats.std, (v) => (v > STD_FLOOR ? v : STD_FLOOR));
  // Trained through a landmark map: the person's own statistics go with it, so what is trained
  // later on the person's track (the generator) goes through the same map.
  const map = p.data.landmarkMap;
  if (map) {
    tensors.set(LANDMARK_SOURCE_MEAN, { name: LANDMARK_SOURCE_MEAN, dtype: 'float32', shape: [map.from.mean.length], data: map.from.mean.slice() });
    tensors.set(LANDMARK_SOURCE_STD, { name: LANDMARK_SOURCE_STD, dtype: 'float32', shape: [map.from.std.length], data: map.from.std.slice() });
  }
  return {
    name: p.name,
    config,
    camera: p.camera,
    tensors,
    landmarkStats: { mean: stats.mean.slice(), std, frames: n },
    generator: null,
    provenance: p.provenance,
  };
}
