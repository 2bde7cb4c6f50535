/**
 * The page's handle on one training run in the worker (train-worker.ts): start it, hear its
 * progress, previews and checkpoints, pause it (the worker checkpoints, then stops). The run's
 * outcome is one promise: the .r2t bytes, or a TrainingStopped saying paused or why it failed.
 */
import type { FromTrainer, ToTrainer } from './protocol.ts';
import type { CheckpointInfo, JobProgress, PreviewFrame } from './run-job.ts';

export class TrainingStopped extends Error {
  override readonly name = 'TrainingStopped';
  constructor(
    /** 'paused' on request, otherwise the worker's error code */
    readonly code: string,
    message: string,
    readonly checkpoint: CheckpointInfo | null = null,
  ) {
    super(message);
  }
}

export interface TrainingHooks {
  onGpu?: (description: string, fallback: boolean) => void;
  onProgress?: (p: JobProgress) => void;
  onPreview?: (p: PreviewFrame) => void;
  onCheckpoint?: (c: CheckpointInfo) => void;
}

export interface TrainingRun {
  /** asks the worker to checkpoint and stop; `result` then rejects with code 'paused' */
  pause(): void;
  result: Promise<Uint8Array>;
}

export function startTraining(jobId: string, hooks: TrainingHooks = {}, workerUrl = 'train-worker.js'): TrainingRun {
  const worker = new Worker(workerUrl);
  const send = (m: ToTrainer) => worker.postMessage(m);
  const result = new Promise<Uint8Array>((resolve, reject) => {
    const finish = (f: () => void) => {
      worker.terminate();
      f();
    };
    worker.addEventListener('error', (ev) => finish(() => reject(new TrainingStopped('INTERNAL', `The training worker failed to run: ${ev.message || 'script error'}`))));
    worker.addEventListener('message', (ev: MessageEvent<FromTrainer>) => {
      const m = ev.data;
      switch (m.type) {
        case 'gpu':
          return hooks.onGpu?.(m.description, m.fallback);
        case 'progress':
          return hooks.onProgress?.(m.progress);
        case 'preview':
          return hooks.onPreview?.(m.frame);
        case 'checkpoint':
          return hooks.onCheckpoint?.(m.info);
        case 'done':
          return finish(() => resolve(new Uint8Array(m.avatar)));
        case 'paused':
          return finish(() => reject(new TrainingStopped('paused', 'Training paused; the checkpoint is kept.', m.info)));
        case 'failed':
          return finish(() => reject(new TrainingStopped(m.code, m.message)));
      }
    });
  });
  send({ type: 'start', jobId });
  return { pause: () => send({ type: 'pause' }), result };
}
