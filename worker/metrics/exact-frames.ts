/**
 * Renderer inputs for evaluation: frame k is pose k with landmark frame k, exactly. Unlike the
 * playback path (worker/model/track.ts) there is no pose smoothing and no ping-pong, so a
 * render can be compared pixel for pixel with the subject frame it reproduces. The condition
 * is prepared as the trainer prepares it: statistics (mean, unbiased std) of the driving
 * track, clamping, the 5-frame zero-padded window, the eye value as a 3-frame mean; the
 * reference's test-time lip EMA is optional and off by default because the trainer scores
 * frames one by one without it.
 */
import { FormatError } from '../errors.ts';
import { computeFilm, LandmarkConditioner } from '../model/conditioning.ts';
import type { FrameInput } from '../model/cpu-renderer.ts';
import { landmarkStatistics, normaliseClampTrack, windowPoints, type LandmarkStatistics } from '../model/landmarks.ts';
import { smoothEye } from '../model/poses.ts';
import type { ModelWeights } from '../model/weights.ts';

export interface ExactFramesOptions {
  /** Per-frame eye values (frames), 3-frame smoothed; 0.25 when absent. */
  eye?: Float32Array | null;
  stats?: LandmarkStatistics;
  /** Apply the reference's test-time lip EMA in frame order (default false). */
  lipSmoothing?: boolean;
}

export function* exactFrames(weights: ModelWeights, poses: Float32Array, track: Float32Array, frames: number, opts: ExactFramesOptions = {}): Generator<FrameInput, void, undefined> {
  const cond = weights.config.condition;
  const numbers = cond.numLandmarks * 3;
  if (!Number.isInteger(frames) || frames < 1) throw FormatError.input('frames', `expected a positive integer, got ${frames}`);
  if (!(poses instanceof Float32Array) || poses.length !== frames * 16) {
    throw FormatError.expected('INPUT_FORMAT', 'poses', `${frames} poses (one per landmark frame)`, `${poses?.length / 16}`);
  }
  if (!(track instanceof Float32Array) || track.length !== frames * numbers) {
    throw FormatError.expected('INPUT_FORMAT', 'landmarks', `${frames * numbers} float32 values (${frames} x ${cond.numLandmarks} x 3)`, String(track?.length));
  }
  if (opts.eye && opts.eye.length !== frames) throw FormatError.expected('INPUT_FORMAT', 'eye', `${frames} values (one per frame)`, String(opts.eye.length));
  const stats = opts.stats ?? landmarkStatistics(track, frames, numbers);
  const normalised = normaliseClampTrack(track, frames, numbers, stats);
  const conditioner = new LandmarkConditioner(weights, stats);
  const points = new Float32Array(cond.window * numbers);
  for (let t = 0; t < frames; t++) {
    windowPoints(normalised, frames, t, cond.window, points);
    if (!opts.lipSmoothing) conditioner.reset();
    const { film1, film2 } = computeFilm(weights, conditioner.code(points));
    yield { film1, film2, pose: poses.slice(t * 16, t * 16 + 16), eye: smoothEye(opts.eye ?? null, frames, t) };
  }
}
