/**
 * Maps a template-space generator's output onto an avatar: each of the 204 numbers is
 * z-scored with the generator's own output statistics (outMean, outScale = the training
 * track's mean and std) and de-normalised with the avatar's landmark statistics, the same
 * per-number statistics the renderer's conditioning uses (model-spec §2).
 */
import type { LandmarkStats } from '../avatar/types.ts';
import { ConfigError } from '../errors.ts';
import { LANDMARK_DIM, type LandmarkGenerator } from './model.ts';

export function retargetFrames(g: LandmarkGenerator, landmarks: Float32Array, stats: LandmarkStats | null): Float32Array {
  if (g.space !== 'template' || !stats) return landmarks;
  if (stats.mean.length !== LANDMARK_DIM || stats.std.length !== LANDMARK_DIM) {
    throw new ConfigError(`landmarkStats: expected ${LANDMARK_DIM} means and stds, got ${stats.mean.length} and ${stats.std.length}`);
  }
  const out = new Float32Array(landmarks.length);
  for (let i = 0; i < landmarks.length; i++) {
    const d = i % LANDMARK_DIM;
    const z = g.outScale[d] > 0 ? (landmarks[i] - g.outMean[d]) / g.outScale[d] : 0;
    out[i] = stats.mean[d] + z * stats.std[d];
  }
  return out;
}
