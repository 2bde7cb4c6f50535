/**
 * Runs one creation job's training: the engine's trainer (trainer/nerf/loop.ts) on a prepared
 * subject, all three stages, resuming from the job's checkpoint when there is one. Platform-free:
 * the browser worker (train-worker.ts) passes OPFS files and a WebGPU backend, tests pass
 * folders or memory and the Node GPU. Reports whole-job progress (which stage, fraction of the
 * job, time left), preview frames, and every checkpoint written (so the job record can say
 * where a resume will continue).
 */
import { readAvatar } from '../../worker/avatar/reader.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import { avatarLandmarkMap, type LandmarkMap } from '../../worker/model/landmark-map.ts';
import type { SubjectFiles } from '../../worker/subject/files.ts';
import { openSubject, type Subject } from '../../worker/subject/reader.ts';
import { subjectPairs } from '../../trainer/generator-pairs.ts';
import { trainGeneratorResumable, trainedGeneratorOnnx } from '../../trainer/generator-resume.ts';
import type { TrainerBackend } from '../../trainer/nerf/backend.ts';
import { decodeCheckpoint, type StageName } from '../../trainer/nerf/checkpoint.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { STAGE_ORDER, trainNerf, type TrainIo } from '../../trainer/nerf/loop.ts';
import type { ImageDecoder } from './image-decoder.ts';
import { GENERATOR_EPOCHS, jobFraction, stageSteps, type JobStage, type TrainPrior, type TrainSettings } from './job.ts';
import type { Avatar } from '../../worker/avatar/types.ts';

export interface JobFiles extends TrainIo {
  /** the finished avatar written by an earlier run, or null */
  readAvatar(): Promise<Uint8Array | null>;
  /** the landmark generator's checkpoint (trainer/generator-checkpoint.ts), or null */
  readGeneratorCheckpoint(): Promise<Uint8Array | null>;
  writeGeneratorCheckpoint(bytes: Uint8Array): Promise<void>;
}

export interface JobProgress {
  /** 'open' while the subject is read and checked, then the training stage */
  stage: 'open' | JobStage;
  /** steps done in the stage, and its length */
  step: number;
  iters: number;
  /** 0..1 of the whole job */
  fraction: number;
  /** seconds left for the whole job; null until a rate is known */
  secondsLeft: number | null;
  loss: number | null;
  /** held-out PSNR of the last evaluation (dB) */
  psnr: number | null;
}

export interface PreviewFrame {
  stage: StageName;
  step: number;
  width: number;
  height: number;
  /** RGBA, 8 bits, ready for an ImageData */
  rgba: Uint8ClampedArray;
}

export interface CheckpointInfo {
  stage: JobStage;
  step: number;
  completed: StageName[];
  /** the generator stage's length (its checkpoints only) */
  iters?: number;
}

export interface JobHooks {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  onPreview?: (p: PreviewFrame) => void;
  /** after each checkpoint is safely written */
  onCheckpoint?: (c: CheckpointInfo) => Promise<void> | void;
  /** the avatar a `prior` setting names (the browser fetches the bundled built-in one) */
  loadPrior?: (prior: NonNullable<TrainPrior>) => Promise<Avatar>;
}

export function previewRgba(image: Float32Array, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) out[4 * i + k] = Math.round(image[3 * i + k] * 255);
    out[4 * i + 3] = 255;
  }
  return out;
}

/** Seconds left for the whole job at `rate` steps/s, from `stage` at `step`. */
export function secondsLeft(settings: TrainSettings, stage: StageName, step: number, rate: number): number | null {
  if (!(rate > 0)) return null;
  const steps = stageSteps(settings);
  let left = Math.max(0, steps[stage] - step);
  for (const s of STAGE_ORDER.slice(STAGE_ORDER.indexOf(stage) + 1)) left += steps[s];
  return left / rate;
}

/**
 * Trains (or finishes training) the job: the NeRF's stages, then the person-specific landmark
 * generator on the recording's sound and landmark track, embedded in the `.r2t` it resolves with
 * (through the NeRF's landmark map, when it was trained through one).
 */
export async function runTrainJob(backend: TrainerBackend, subjectFiles: SubjectFiles, decoder: ImageDecoder, files: JobFiles, settings: TrainSettings, name: string, hooks: JobHooks = {}): Promise<Uint8Array> {
  const { signal } = hooks;
  const existing = await files.readCheckpoint();
  let completed: StageName[] = [];
  if (existing) completed = decodeCheckpoint(existing, 'the job checkpoint').completed;
  const nerfDone = STAGE_ORDER.every((s) => completed.includes(s));
  const stored = nerfDone ? await files.readAvatar() : null;
  if (stored && (await readAvatar(stored)).generator) return stored;
  hooks.onProgress?.({ stage: 'open', step: 0, iters: 0, fraction: jobFraction(settings, completed, null, 0), secondsLeft: null, loss: null, psnr: null });
  // Headers only: decoding every frame up front would double the time to the first step; a
  // corrupt image still fails, naming its file, when training reaches it.
  const subject = await openSubject(subjectFiles, decoder, { check: 'headers', signal });
  const nerf = await readAvatar(stored ?? (await trainJobNerf(backend, subject, files, settings, name, hooks, existing !== null, (c) => (completed = c))));
  const generator = await trainJobGenerator(subjectFiles, subject, files, settings, hooks, avatarLandmarkMap(nerf));
  const out = writeAvatar({ ...nerf, generator });
  await files.writeAvatar(out, 'torso');
  return out;
}

async function trainJobNerf(
  backend: TrainerBackend,
  subject: Subject,
  files: JobFiles,
  settings: TrainSettings,
  name: string,
  hooks: JobHooks,
  resume: boolean,
  setCompleted: (c: StageName[]) => void,
): Promise<Uint8Array> {
  const data = await TrainingData.open(subject);
  let prior: Avatar | undefined;
  if (settings.prior) {
    if (!hooks.loadPrior) throw new R2TalkerError('CONFIG', `this job starts from the ${settings.prior} avatar, which this trainer cannot load`);
    prior = await hooks.loadPrior(settings.prior);
  }
  let completed: StageName[] = [];
  let last: Uint8Array | null = null;
  const io: TrainIo = {
    readCheckpoint: () => files.readCheckpoint(),
    async writeCheckpoint(bytes) {
      await files.writeCheckpoint(bytes);
      const s = decodeCheckpoint(bytes, 'the job checkpoint');
      completed = s.completed;
      setCompleted(completed);
      await hooks.onCheckpoint?.({ stage: s.stage, step: s.step, completed: s.completed });
    },
    async writeAvatar(bytes, stage) {
      await files.writeAvatar(bytes, stage);
      last = bytes;
    },
  };
  if (resume) completed = decodeCheckpoint((await files.readCheckpoint())!, 'the job checkpoint').completed;
  await trainNerf(
    backend,
    data,
    {
      preset: settings.preset,
      stages: STAGE_ORDER.slice(),
      iters: settings.iters ?? undefined,
      rays: settings.rays ?? undefined,
      seed: settings.seed,
      prior,
      eyeInput: true,
      progressive: false,
      evalEvery: 0,
      evalFrames: settings.evalFrames,
      checkpointEvery: settings.checkpointEvery,
      name,
      resume,
      signal: hooks.signal,
      previewEvery: settings.previewEvery || undefined,
      onPreview: hooks.onPreview
        ? async (p) => hooks.onPreview!({ stage: p.stage, step: p.step, width: p.width, height: p.height, rgba: previewRgba(p.image, p.width, p.height) })
        : undefined,
      onProgress: (p) =>
        hooks.onProgress?.({
          stage: p.stage,
          step: p.step,
          iters: p.iters,
          fraction: jobFraction(settings, completed, p.stage, p.step),
          secondsLeft: secondsLeft(settings, p.stage, p.step, p.stepsPerSecond),
          loss: p.loss,
          psnr: p.psnr,
        }),
    },
    io,
  );
  const out = last ?? (await files.readAvatar());
  if (!out) throw new R2TalkerError('INTERNAL', 'training finished but wrote no avatar');
  return out;
}

/**
 * The generator stage: `r2talker train-generator`'s training (same options: the settings'
 * epochs, the default channels, the job's seed, avatar space) on the subject's aud.wav and
 * landmark track, checkpointed like the NeRF stages. Resolves with the generator as ONNX.
 */
async function trainJobGenerator(subjectFiles: SubjectFiles, subject: Subject, files: JobFiles, settings: TrainSettings, hooks: JobHooks, map: LandmarkMap | null): Promise<Uint8Array> {
  const pairs = await subjectPairs(subjectFiles, subject);
  const epochs = settings.generatorEpochs ?? GENERATOR_EPOCHS;
  const done: StageName[] = STAGE_ORDER.slice();
  const started = Date.now();
  let first: number | null = null;
  const result = await trainGeneratorResumable(
    pairs,
    { epochs, seed: settings.seed, space: 'avatar' },
    { readCheckpoint: () => files.readGeneratorCheckpoint(), writeCheckpoint: (b) => files.writeGeneratorCheckpoint(b) },
    {
      signal: hooks.signal,
      checkpointEvery: settings.checkpointEvery,
      onProgress: (p) => {
        first ??= p.step - 1;
        const rate = (p.step - first) / Math.max(1e-3, (Date.now() - started) / 1000);
        hooks.onProgress?.({
          stage: 'generator',
          step: p.step,
          iters: p.steps,
          fraction: jobFraction(settings, done, 'generator', p.step, p.steps),
          secondsLeft: (p.steps - p.step) / rate,
          loss: p.loss,
          psnr: null,
        });
      },
      onCheckpoint: (step, steps) => hooks.onCheckpoint?.({ stage: 'generator', step, completed: done, iters: steps }),
    },
  );
  return trainedGeneratorOnnx(result, pairs.reduce((a, p) => a + p.frames, 0), epochs, map);
}
