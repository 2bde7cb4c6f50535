/**
 * The create page's preparation step: extension/prepare/prepare-recording.ts (video decoded in
 * the page, face tracking and the subject writer in its worker) behind the pipeline's
 * PrepareRecording shape, with its sub-stages folded into one progress bar and named in words.
 */
import { prepareRecording, type RecordingStage } from '../../prepare/prepare-recording.ts';
import type { PrepareRecording } from './pipeline.ts';

/** Share of the preparation's time each sub-stage takes (measured order of magnitude: tracking dominates). */
const WEIGHTS: Record<RecordingStage, number> = { decode: 0.05, track: 0.6, fit: 0.05, background: 0.1, write: 0.2 };
const ORDER: RecordingStage[] = ['decode', 'track', 'fit', 'background', 'write'];
const WORDS: Record<RecordingStage, string> = {
  decode: 'reading the video and the sound',
  track: 'finding the face in each frame',
  fit: 'fitting the head pose and the camera',
  background: 'estimating the background',
  write: 'writing the frames, masks and landmarks',
};

export function prepareFraction(stage: RecordingStage, done: number, total: number): number {
  let base = 0;
  for (const s of ORDER) {
    if (s === stage) break;
    base += WEIGHTS[s];
  }
  return Math.min(1, base + WEIGHTS[stage] * (total > 0 ? Math.min(1, done / total) : 0));
}

export function prepareDetail(stage: RecordingStage, done: number, total: number): string {
  return total > 1 ? `${WORDS[stage]} (${done} of ${total})` : WORDS[stage];
}

/**
 * `minSeconds`: the usable speech (frames with a face) under which preparing refuses; the page
 * passes its own minimum, never more than the preparation's default of 20 s.
 */
export function browserPrepare(minSeconds: () => number): PrepareRecording {
  return async (recording, name, opts) =>
    prepareRecording(recording, name, {
      signal: opts.signal,
      size: opts.size,
      // Only reached when no complete subject exists: a leftover of an interrupted run is replaced.
      overwrite: true,
      minSeconds: Math.min(20, minSeconds()),
      warnSeconds: Math.min(60, minSeconds()),
      onProgress: (stage, done, total) => opts.onProgress(prepareFraction(stage, done, total), prepareDetail(stage, done, total)),
    });
}
