/**
 * The create page's second step — recording in, trained `.r2t` out. Preparation (face, pose,
 * masks into a subject in OPFS) runs in the page when this build has it; training runs in a
 * worker (extension/train/) on WebGPU, checkpointing into OPFS so that pausing, closing the
 * tab or restarting the browser loses at most a few steps. A job that was prepared elsewhere
 * (`r2talker prepare`, then the folder imported here) trains the same way.
 */
import { readJob, preparedSubject, updateJob, writeJob } from '../../train/job-store.ts';
import { newJob, prepareSize, type JobRecord, type JobStage, type TrainSettings } from '../../train/job.ts';
import type { JobProgress, PreviewFrame } from '../../train/run-job.ts';
import { startTraining, TrainingStopped } from '../../train/train-client.ts';

export type CreationStageId = 'prepare' | 'train-head' | 'train-lips' | 'train-torso' | 'train-generator';

export const CREATION_STAGES: readonly { id: CreationStageId; label: string }[] = [
  { id: 'prepare', label: 'Prepare the recording (face, pose, masks)' },
  { id: 'train-head', label: 'Train the head' },
  { id: 'train-lips', label: 'Refine the lips' },
  { id: 'train-torso', label: 'Train the torso' },
  { id: 'train-generator', label: 'Train your voice-to-face model' },
];

export interface CreationProgress {
  stage: CreationStageId;
  /** 0..1 within the stage */
  fraction: number;
  /** steps done and the stage's length (training stages) */
  step: number;
  iters: number;
  /** seconds left for the whole job, when known */
  secondsLeft: number | null;
  /** latest held-out PSNR in dB, when measured */
  psnr: number | null;
  /** what the stage is doing, in words (preparation's sub-steps) */
  detail?: string;
}

export interface RunHooks {
  /** aborting pauses: the worker checkpoints and stops */
  signal: AbortSignal;
  onProgress: (p: CreationProgress) => void;
  onPreview?: (p: PreviewFrame) => void;
  onGpu?: (description: string, fallback: boolean) => void;
  onCheckpoint?: (job: JobRecord) => void;
}

/** Prepares a recording into subjects/<name>/ in OPFS (extension/prepare/prepare-recording.ts behind an adapter). */
export type PrepareRecording = (
  recording: Blob,
  subjectName: string,
  opts: { signal: AbortSignal; size: number; onProgress: (fraction: number, detail: string) => void },
) => Promise<unknown>;

export class PipelineUnavailableError extends Error {
  override readonly name = 'PipelineUnavailableError';
}

export const PREPARE_MISSING =
  'Preparing a recording inside the browser is not part of this version yet. Prepare it with the command line below, then import the prepared folder here: training runs in this page.';

const STAGE_OF: Record<JobStage, CreationStageId> = { head: 'train-head', lips: 'train-lips', torso: 'train-torso', generator: 'train-generator' };

function toCreation(p: JobProgress): CreationProgress | null {
  if (p.stage === 'open') return null;
  return { stage: STAGE_OF[p.stage], fraction: p.iters > 0 ? p.step / p.iters : 0, step: p.step, iters: p.iters, secondsLeft: p.secondsLeft, psnr: p.psnr };
}

/** The job for a recording: the stored one (its settings win: a resume must keep them), else a new one. */
export async function openJob(id: string, name: string, settings: TrainSettings): Promise<JobRecord> {
  return (await readJob(id)) ?? (await writeJob(newJob(id, name, settings)));
}

export class BrowserPipeline {
  constructor(private readonly prepare: PrepareRecording | null) {}

  /** Whether a job still needs preparing that this build cannot do (then the page offers the subject import). */
  async needsPrepare(jobId: string): Promise<boolean> {
    return (await preparedSubject(jobId)) === null;
  }

  get canPrepare(): boolean {
    return this.prepare !== null;
  }

  /** Prepares (when needed) and trains the job; resolves with the `.r2t`. Rejects with TrainingStopped on pause or failure. */
  async run(job: JobRecord, recording: Blob | null, hooks: RunHooks): Promise<Blob> {
    if (await this.needsPrepare(job.id)) {
      if (!this.prepare) throw new PipelineUnavailableError(PREPARE_MISSING);
      if (!recording) throw new PipelineUnavailableError('The recording of this job is no longer stored: record or import it again.');
      await updateJob(job.id, { state: 'preparing' });
      await this.prepare(recording, job.id, {
        signal: hooks.signal,
        size: prepareSize(job.settings),
        onProgress: (fraction, detail) => hooks.onProgress({ stage: 'prepare', fraction, step: 0, iters: 0, secondsLeft: null, psnr: null, detail }),
      });
    }
    hooks.onProgress({ stage: 'prepare', fraction: 1, step: 0, iters: 0, secondsLeft: null, psnr: null });
    const run = startTraining(job.id, {
      onGpu: hooks.onGpu,
      onPreview: hooks.onPreview,
      onProgress: (p) => {
        const c = toCreation(p);
        if (c) hooks.onProgress(c);
      },
      onCheckpoint: () => void readJob(job.id).then((j) => j && hooks.onCheckpoint?.(j)),
    });
    const pause = () => run.pause();
    hooks.signal.addEventListener('abort', pause, { once: true });
    try {
      const bytes = await run.result;
      return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    } finally {
      hooks.signal.removeEventListener('abort', pause);
    }
  }
}

export { TrainingStopped };

/** The command-line route, for a recording saved as `file`; `prepareOnly` when training can run here. */
export function cliRoute(file = 'recording.webm', prepareOnly = false): string {
  // prepare reads the recording itself (WebM as recorded here, or MP4): no ffmpeg step.
  const lines = [
    '# in the r2talker folder (npm ci done), with the recording beside it:',
    `npx r2talker prepare --video ${file} --out my-subject`,
  ];
  if (prepareOnly) lines.push('# finally: "Import a prepared folder\u2026" on this page > my-subject');
  else {
    lines.push(
      'npx r2talker train --data my-subject --out me.r2t',
      '# your own voice-to-face model, embedded in me.r2t',
      'npx r2talker train-generator --data my-subject --avatar me.r2t',
      '# finally: R2 Talker popup > Import .r2t... > me.r2t',
    );
  }
  return lines.join('\n');
}
