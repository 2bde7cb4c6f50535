/** What the page side (prepare-recording.ts) and the prepare worker (prepare-worker.ts) say to each other, over Comlink. */
import type { PcmAudio, PrepareReport, PrepareStage } from '../../worker/prepare/pipeline.ts';

/** OPFS folder (under the origin's root) that holds one folder per prepared subject. */
export const SUBJECTS_DIR = 'subjects';

export interface PrepareJob {
  /** Frames at `fps`, all `width` x `height`; the page grabs each on request. */
  video: { count: number; fps: number; width: number; height: number };
  audio: PcmAudio | null;
  subjectDir: string;
  size: number;
  overwrite: boolean;
  minSeconds?: number;
  warnSeconds?: number;
  valSeconds?: number;
}

/** A failure as it crosses the worker boundary: Comlink keeps only an Error's message, so the code travels beside it. */
export interface WorkerFailure {
  r2tFailure: true;
  code: string;
  message: string;
}

export function isWorkerFailure(e: unknown): e is WorkerFailure {
  return typeof e === 'object' && e !== null && (e as WorkerFailure).r2tFailure === true;
}

export interface PrepareWorkerApi {
  /** Prepares into OPFS subjects/<job.subjectDir>; rejects with a WorkerFailure. One job at a time. */
  prepare(job: PrepareJob, grab: (index: number) => Promise<Uint8Array>, onProgress: (stage: PrepareStage, done: number, total: number) => void): Promise<PrepareReport>;
  /** Stops the running job; it rejects with code ABORTED and leaves nothing behind. */
  cancel(): void;
}
