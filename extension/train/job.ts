/**
 * A creation job as it is kept between visits: which recording, where its prepared subject
 * is, the training settings (fixed for the job's life: a resumed run must use the ones its
 * checkpoint was made with) and how far it got. Stored as JSON beside the job's checkpoint
 * (jobs/<id>/job.json in OPFS) and validated field by field when read back, so a damaged
 * record is reported, never half-used.
 */
import { PRESETS, PRESET_NAMES, type PresetName } from '../../trainer/nerf/presets.ts';
import type { StageName } from '../../trainer/nerf/checkpoint.ts';

/**
 * The trainer's stages in its order (trainer/nerf/loop.ts STAGE_ORDER, checked equal by
 * tests/unit/create-train-job.test.ts); restated so the page does not bundle the trainer.
 */
export const STAGES: readonly StageName[] = ['head', 'lips', 'torso'];

/** A job's stages: the NeRF's, then the person-specific landmark generator (trainer/generator-resume.ts). */
export type JobStage = StageName | 'generator';
export const JOB_STAGES: readonly JobStage[] = [...STAGES, 'generator'];

/** Passes over the recording the generator trains for when the settings leave it open: `r2talker train-generator`'s default. */
export const GENERATOR_EPOCHS = 20;

export const JOB_VERSION = 1;
export const JOBS_DIR = 'jobs';
export const SUBJECTS_DIR = 'subjects';
export const JOB_FILE = 'job.json';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const AVATAR_FILE = 'avatar.r2t';
export const GENERATOR_CHECKPOINT_FILE = 'generator-checkpoint.bin';

export interface TrainSettings {
  preset: PresetName;
  /** side of the prepared frames in pixels; null = the preset's (prepareSize) */
  size: number | null;
  /** steps of every stage; null = the preset's own per-stage counts */
  iters: number | null;
  /** rays per step; null = the preset's */
  rays: number | null;
  seed: number;
  /** a checkpoint every this many steps: what closing the tab can lose at most */
  checkpointEvery: number;
  /** a preview frame every this many steps (0 = none) */
  previewEvery: number;
  /** held-out frames measured at each stage end */
  evalFrames: number;
  /** passes of the landmark generator over the recording; null = GENERATOR_EPOCHS */
  generatorEpochs: number | null;
  /**
   * where the head field starts: 'builtin' = the built-in avatar's weights (a Quick model, so
   * Quick only; trainer/nerf/params.ts headParamsFromAvatar), null = random weights
   */
  prior: TrainPrior;
}

export type TrainPrior = 'builtin' | null;

export type JobState = 'preparing' | 'training' | 'paused' | 'failed' | 'done';
const STATES: JobState[] = ['preparing', 'training', 'paused', 'failed', 'done'];

export interface JobRecord {
  version: typeof JOB_VERSION;
  /** the recording's id (one job per recording) */
  id: string;
  /** the avatar's name in the library */
  name: string;
  settings: TrainSettings;
  state: JobState;
  /** the stage and step of the last checkpoint (what a resume continues from) */
  stage: JobStage | null;
  step: number;
  completed: JobStage[];
  /** the generator stage's length in steps (known once the recording is read; 0 before) */
  generatorSteps: number;
  /** why the last run stopped, when it failed */
  error: string | null;
  /** the library entry the finished avatar became */
  avatarId: string | null;
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_SETTINGS: TrainSettings = { preset: 'tiny', size: null, iters: null, rays: null, seed: 1, checkpointEvery: 25, previewEvery: 50, evalFrames: 4, generatorEpochs: null, prior: null };

const ID = /^[A-Za-z0-9_-]{1,80}$/;

export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new RangeError(`job id: expected 1-80 letters, digits, '-' or '_', got ${JSON.stringify(id)}`);
  return id;
}

function int(field: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${field}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

function checkPrior(v: unknown, preset: PresetName, field: string): TrainPrior {
  if (v === undefined || v === null) return null;
  if (v !== 'builtin') throw new RangeError(`${field}.prior: expected "builtin" or null, got ${JSON.stringify(v)}`);
  // The built-in avatar is a tiny-preset model: its weights fit no other architecture.
  if (preset !== 'tiny') throw new RangeError(`${field}.prior: the built-in face is a Quick model; start from it with the Quick quality only, got ${JSON.stringify(preset)}`);
  return v;
}

export function checkSettings(raw: unknown, field = 'settings'): TrainSettings {
  if (typeof raw !== 'object' || raw === null) throw new RangeError(`${field}: expected an object`);
  const r = raw as Record<string, unknown>;
  if (!PRESET_NAMES.includes(r.preset as PresetName)) throw new RangeError(`${field}.preset: expected one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(r.preset)}`);
  if (r.size !== undefined && r.size !== null && (typeof r.size !== 'number' || r.size % 2 !== 0)) throw new RangeError(`${field}.size: expected an even number of pixels, got ${JSON.stringify(r.size)}`);
  return {
    preset: r.preset as PresetName,
    // absent in records written before the setting existed: the preset's
    size: r.size === undefined || r.size === null ? null : int(`${field}.size`, r.size, 64, 1024),
    iters: r.iters === null ? null : int(`${field}.iters`, r.iters, 1, 10_000_000),
    rays: r.rays === null ? null : int(`${field}.rays`, r.rays, 16, 1 << 20),
    seed: int(`${field}.seed`, r.seed, 0, 0xffffffff),
    checkpointEvery: int(`${field}.checkpointEvery`, r.checkpointEvery, 1, 1e6),
    previewEvery: int(`${field}.previewEvery`, r.previewEvery, 0, 1e6),
    evalFrames: int(`${field}.evalFrames`, r.evalFrames, 1, 1000),
    // absent in records written before the generator trained here: the default
    generatorEpochs: r.generatorEpochs === undefined || r.generatorEpochs === null ? null : int(`${field}.generatorEpochs`, r.generatorEpochs, 1, 10_000),
    // absent in records written before the option existed: random weights, as then
    prior: checkPrior(r.prior, r.preset as PresetName, field),
  };
}

/**
 * Frame side the recording is prepared at: the quick preset's small model cannot use more
 * than 256 px of detail, and every preview and held-out check renders whole frames.
 */
export function prepareSize(s: TrainSettings): number {
  return s.size ?? (s.preset === 'tiny' ? 256 : 512);
}

/** Steps of each stage under these settings, in STAGES. */
export function stageSteps(s: TrainSettings): Record<StageName, number> {
  const p = PRESETS[s.preset].schedule;
  return { head: s.iters ?? p.headIters, lips: s.iters ?? p.lipsIters, torso: s.iters ?? p.torsoIters };
}

export function newJob(id: string, name: string, settings: TrainSettings, now = Date.now()): JobRecord {
  return { version: JOB_VERSION, id: checkJobId(id), name, settings: checkSettings(settings), state: 'preparing', stage: null, step: 0, completed: [], generatorSteps: 0, error: null, avatarId: null, createdAt: now, updatedAt: now };
}

export function parseJob(text: string, field: string): JobRecord {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new RangeError(`${field}: not valid JSON`);
  }
  if (typeof r !== 'object' || r === null) throw new RangeError(`${field}: expected an object`);
  if (r.version !== JOB_VERSION) throw new RangeError(`${field}.version: expected ${JOB_VERSION}, got ${JSON.stringify(r.version)}`);
  if (!STATES.includes(r.state as JobState)) throw new RangeError(`${field}.state: expected one of ${STATES.join(', ')}, got ${JSON.stringify(r.state)}`);
  if (r.stage !== null && !JOB_STAGES.includes(r.stage as JobStage)) throw new RangeError(`${field}.stage: expected a stage name or null, got ${JSON.stringify(r.stage)}`);
  if (!Array.isArray(r.completed) || !r.completed.every((s) => JOB_STAGES.includes(s as JobStage))) throw new RangeError(`${field}.completed: expected a list of stage names`);
  if (typeof r.name !== 'string' || r.name.length === 0 || r.name.length > 200) throw new RangeError(`${field}.name: expected a name of 1-200 characters`);
  if (r.error !== null && typeof r.error !== 'string') throw new RangeError(`${field}.error: expected a string or null`);
  if (r.avatarId !== null && typeof r.avatarId !== 'string') throw new RangeError(`${field}.avatarId: expected a string or null`);
  return {
    version: JOB_VERSION,
    id: checkJobId(r.id),
    name: r.name,
    settings: checkSettings(r.settings, `${field}.settings`),
    state: r.state as JobState,
    stage: r.stage as JobStage | null,
    step: int(`${field}.step`, r.step, 0, 1e8),
    completed: r.completed as JobStage[],
    generatorSteps: r.generatorSteps === undefined ? 0 : int(`${field}.generatorSteps`, r.generatorSteps, 0, 1e8),
    error: r.error as string | null,
    avatarId: r.avatarId as string | null,
    createdAt: int(`${field}.createdAt`, r.createdAt, 0, Number.MAX_SAFE_INTEGER),
    updatedAt: int(`${field}.updatedAt`, r.updatedAt, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** Length of a job's stage in steps (the generator's is 0 until the recording has been read). */
export function stageLength(job: Pick<JobRecord, 'settings' | 'generatorSteps'>, stage: JobStage): number {
  return stage === 'generator' ? job.generatorSteps : stageSteps(job.settings)[stage];
}

/**
 * Fraction of the whole job's steps done when `stage` has reached `step`; the generator's
 * steps count once known (`generatorSteps` > 0).
 */
export function jobFraction(settings: TrainSettings, completed: readonly JobStage[], stage: JobStage | null, step: number, generatorSteps = 0): number {
  const steps = { ...stageSteps(settings), generator: generatorSteps };
  const total = JOB_STAGES.reduce((a, s) => a + steps[s], 0);
  let done = 0;
  for (const s of JOB_STAGES) {
    if (completed.includes(s)) done += steps[s];
    else if (s === stage) done += Math.min(step, steps[s]);
  }
  return total > 0 ? done / total : 0;
}
