/** Messages between the create page and its training worker (train-worker.ts). */
import type { CheckpointInfo, JobProgress, PreviewFrame } from './run-job.ts';

export type ToTrainer = { type: 'start'; jobId: string } | { type: 'pause' };

export type FromTrainer =
  | { type: 'gpu'; description: string; fallback: boolean }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'preview'; frame: PreviewFrame }
  | { type: 'checkpoint'; info: CheckpointInfo }
  /** the finished .r2t */
  | { type: 'done'; avatar: ArrayBuffer }
  /** stopped on request; the checkpoint is kept */
  | { type: 'paused'; info: CheckpointInfo | null }
  | { type: 'failed'; code: string; message: string };
