/**
 * The reference's whole offline sequence (provider.py NeRFDataset_Test + the test loop):
 * landmark statistics over the driving track, clamping, the zero-padded window at the
 * original frame index, lip EMA in frame order; poses smoothed (+-3) and played ping-pong;
 * eye smoothed over 3 poses (0.25 when absent).
 */
import { FormatError } from '../errors.ts';
import { computeFilm, LandmarkConditioner } from './conditioning.ts';
import type { FrameInput } from './cpu-renderer.ts';
import { landmarkStatistics, normaliseClampTrack, windowPoints, type LandmarkStatistics } from './landmarks.ts';
import { pingPongIndex, smoothEye, smoothPoses } from './poses.ts';
import type { ModelWeights } from './weights.ts';

/** The reference's smooth_path_window 7 -> +-3 frames. */
export const POSE_SMOOTHING_RADIUS = 3;

export interface PrepareFramesOptions {
  /** Per-pose eye values (poseCount), smoothed over 3 poses; 0.25 everywhere when absent. */
  eye?: Float32Array;
  /** Normalisation statistics; by default the track's own (mean, unbiased std). */
  stats?: LandmarkStatistics;
}

export function* prepareFrames(
  weights: ModelWeights,
  avatarPoses: Float32Array,
  poseCount: number,
  landmarkTrack: Float32Array,
  frames: number,
  opts: PrepareFramesOptions = {},
): Generator<FrameInput, void, undefined> {
  const cond = weights.config.condition;
  const numbers = cond.numLandmarks * 3;
  if (!Number.isInteger(frames) || frames < 1) throw FormatError.input('landmarks.frames', `expected a positive integer, got ${frames}`);
  if (!(landmarkTrack instanceof Float32Array) || landmarkTrack.length !== frames * numbers) {
    throw FormatError.expected('INPUT_FORMAT', 'landmarks', `${frames * numbers} float32 values (${frames} x ${cond.numLandmarks} x 3)`, String(landmarkTrack?.length));
  }
  if (opts.eye && opts.eye.length !== poseCount) throw FormatError.expected('INPUT_FORMAT', 'eye', `${poseCount} values (one per pose)`, String(opts.eye.length));
  const stats = opts.stats ?? landmarkStatistics(landmarkTrack, frames, numbers);
  const track = normaliseClampTrack(landmarkTrack, frames, numbers, stats);
  const poses = smoothPoses(avatarPoses, poseCount, POSE_SMOOTHING_RADIUS);
  const conditioner = new LandmarkConditioner(weights, stats);
  const points = new Float32Array(cond.window * numbers);
  for (let t = 0; t < frames; t++) {
    windowPoints(track, frames, t, cond.window, points);
    const { film1, film2 } = computeFilm(weights, conditioner.code(points));
    const p = pingPongIndex(t, poseCount);
    yield { film1, film2, pose: poses.slice(p * 16, p * 16 + 16), eye: smoothEye(opts.eye, poseCount, p) };
  }
}
