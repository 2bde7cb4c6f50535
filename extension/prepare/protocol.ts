/** What the page side (prepare-recording.ts) and the prepare worker (prepare-worker.ts) say to each other, over Comlink. */
import type { PrepareReport, PrepareStage } from '../../worker/prepare/pipeline.ts';

/** OPFS folder (under the origin's root) that holds one folder per prepared subject. */
export const SUBJECTS_DIR = 'subjects';

export type RecordingStage = 'decode' | PrepareStage;

export interface PrepareJob {
  /** The recording itself: the worker demuxes and decodes it with WebCodecs where it can. */
  recording: Blob;
  subjectDir: string;
  size: number;
  overwrite: boolean;
  minSeconds?: number;
  warnSeconds?: number;
  valSeconds?: number;
  /** decoder waits (ms); default 20 s */
  timeoutMs?: number;
}

/**
 * The page's side of decoding, for what the worker cannot do itself: the <video> element
 * route (workers have no media elements) and decodeAudioData (no audio contexts in workers).
 * Each rejects with a WorkerFailure.
 */
export interface PageDecoder {
  /** Opens the recording in a <video>, because `reason`; the picture size and duration. */
  openElement(reason: string): Promise<{ width: number; height: number; duration: number }>;
  /** The picture shown at `seconds` in the <video>, RGB (transferred). */
  grab(seconds: number): Promise<Uint8Array>;
  /** The sound by decodeAudioData, mono at `sampleRate`; null when there is none. */
  audio(sampleRate: number): Promise<Float32Array | null>;
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
  prepare(job: PrepareJob, page: PageDecoder, onProgress: (stage: RecordingStage, done: number, total: number) => void): Promise<PrepareReport>;
  /** Stops the running job; it rejects with code ABORTED and leaves nothing behind. */
  cancel(): void;
}
