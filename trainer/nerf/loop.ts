/**
 * The NeRF training loop (model-spec §9, scaled by a preset): head stage, lips fine-tune,
 * torso stage, on any TrainerBackend. The loop owns every random draw (trainer/nerf/rng.ts),
 * the losses, the learning-rate schedule, EMA, occupancy refresh scheduling, held-out
 * evaluation, checkpoints and the .r2t output; the backend only does the arithmetic.
 *
 * Determinism: one Rng drives frames, rays, jitter and occupancy probes; its state, the
 * parameters, Adam moments, occupancy grid, EMA and torso density are all in the checkpoint,
 * so `resume` continues bit for bit as an uninterrupted run with the same seed and backend.
 */

import type { Avatar } from '../../worker/avatar/types.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { ConfigError, R2TalkerError } from '../../worker/errors.ts';
import { torsoCoord } from '../../worker/model/torso.ts';
import type { ActiveLevels, FrameCondition, ParamGroupSpec, ParamSet, TrainerBackend } from './backend.ts';
import { decodeCheckpoint, encodeCheckpoint, type StageName, type TrainerState } from './checkpoint.ts';
import { buildAvatar } from './avatar-out.ts';
import type { TrainingData } from './data.ts';
import { evalFrameIndices, evaluateAvatar, type HeldOutMetrics } from './evaluate.ts';
import { blendBackground, blendBackgroundBackward, gaussianWindow, maskLoss, maskTargets, mseLoss, ssimLoss, weightEntropyLoss } from './losses.ts';
import { occupancyProbe, priorOccupancy, torsoGridCoords, untrainedOccupancy } from './occupancy.ts';
import { cloneParams, initParams, paramGroups, headParamsFromAvatar } from './params.ts';
import { getPreset, type PresetName, type Schedule } from './presets.ts';
import { Rng } from './rng.ts';
import { gather3, patchPixels, raysForPixels, samplePixels, samplePixelsFromPool } from './sampling.ts';

export const TRAINER_VERSION = '1';
export const STAGE_ORDER: StageName[] = ['head', 'lips', 'torso'];

export interface NerfTrainOptions {
  preset: PresetName;
  /** stages to run, in STAGE_ORDER; lips and torso need the head stage done (in this run or the checkpoint) */
  stages: StageName[];
  /** steps of every stage (default: the preset's per-stage counts) */
  iters?: number;
  /** rays per step (default: the preset's) */
  rays?: number;
  seed: number;
  eyeInput: boolean;
  /** coarse-to-fine release of the hash levels (paper's progressive optimisation) */
  progressive: boolean;
  /** weight of the SSIM term on lips patches (default: the preset's; 0 = MSE only, the ablation) */
  lipsStructureWeight?: number;
  /** weight of the parsing-mask term on the head's weight sum (default: the preset's; 0 = off) */
  maskWeight?: number;
  /** held-out evaluation every N steps (0: at stage ends only) */
  evalEvery: number;
  /** at most this many held-out frames per evaluation */
  evalFrames: number;
  /** checkpoint every N steps (0: at stage ends and on abort only) */
  checkpointEvery: number;
  /**
   * start the head field from this trained avatar's weights instead of random ones (same
   * preset; params.ts headParamsFromAvatar), with the subject's landmarks mapped into the
   * prior's landmark space (TrainingData.mappedTo, worker/model/landmark-map.ts): a short run
   * then has a mouth that answers the person's landmarks while the field moves to the new person.
   * The avatar written carries the map (landmark_source_mean/std).
   */
  prior?: Avatar;
  /** scene bounds (default the reference's [-1,-0.5,-1, 1,0.5,1]) */
  aabb?: [number, number, number, number, number, number];
  name?: string;
  resume: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  previewEvery?: number;
  onPreview?: (p: { stage: StageName; step: number; width: number; height: number; image: Float32Array }) => Promise<void>;
}

export interface TrainIo {
  /** the previous run's checkpoint, or null */
  readCheckpoint(): Promise<Uint8Array | null>;
  /** must be atomic (temporary file, then rename) */
  writeCheckpoint(bytes: Uint8Array): Promise<void>;
  /** the .r2t after a completed stage; must be atomic */
  writeAvatar(bytes: Uint8Array, stage: StageName): Promise<void>;
}

export interface TrainProgress {
  stage: StageName;
  step: number;
  iters: number;
  loss: number;
  /** latest held-out PSNR (dB), null before the first evaluation */
  psnr: number | null;
  stepsPerSecond: number;
  etaSeconds: number;
  samples: number;
}

export interface TrainSummary {
  completed: StageName[];
  metrics: Record<string, number>;
  /** held-out metrics of every evaluation, in order */
  history: { stage: StageName; step: number; psnr: number; mouthPsnr: number }[];
}

interface Ctx {
  backend: TrainerBackend;
  data: TrainingData;
  opts: NerfTrainOptions;
  io: TrainIo;
  schedule: Schedule;
  config: ReturnType<ReturnType<typeof getPreset>['config']>;
  groups: ParamGroupSpec[];
  rng: Rng;
  state: TrainerState;
  history: TrainSummary['history'];
  lastPsnr: number | null;
}

/** A resume must continue from the same prior: its name and a hash of its weights' bytes. */
function priorId(avatar: Avatar): string {
  let h = 0x811c9dc5;
  for (const [name, t] of [...avatar.tensors].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return `${avatar.name}#${(h >>> 0).toString(16)}`;
}

function fingerprint(opts: NerfTrainOptions, data: TrainingData): string {
  return JSON.stringify({
    v: TRAINER_VERSION,
    preset: opts.preset,
    rays: opts.rays ?? null,
    seed: opts.seed,
    eye: opts.eyeInput,
    progressive: opts.progressive,
    aabb: opts.aabb ?? null,
    // a run from a prior maps the landmarks, seeds the occupancy and ramps the rates since
    // "+landmark-map": a checkpoint from before trained otherwise and does not resume into it
    prior: opts.prior ? `${priorId(opts.prior)}+landmark-map` : null,
    size: [data.width, data.height],
    frames: data.train.split.frames.length,
  });
}

export function validateOptions(o: NerfTrainOptions): void {
  getPreset(o.preset);
  if (!Array.isArray(o.stages) || o.stages.length === 0 || !o.stages.every((s) => STAGE_ORDER.includes(s))) throw new ConfigError(`--stage: expected head, lips, torso or all, got ${JSON.stringify(o.stages)}`);
  const positive = (name: string, v: number | undefined, lo: number, hi: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${v}`);
  };
  positive('--iters', o.iters, 1, 10_000_000);
  positive('--rays', o.rays, 1, 1 << 20);
  positive('--seed', o.seed, 0, 0xffffffff);
  positive('evalEvery', o.evalEvery, 0, 1e9);
  positive('evalFrames', o.evalFrames, 1, 100_000);
  positive('checkpointEvery', o.checkpointEvery, 0, 1e9);
  positive('--preview-every', o.previewEvery, 0, 1e9);
  if (o.maskWeight !== undefined && !(o.maskWeight >= 0 && o.maskWeight <= 100)) throw new ConfigError(`--head-mask: expected a number in [0, 100], got ${o.maskWeight}`);
  if (o.lipsStructureWeight !== undefined && !(o.lipsStructureWeight >= 0 && o.lipsStructureWeight <= 100)) throw new ConfigError(`--lips-ssim: expected a number in [0, 100], got ${o.lipsStructureWeight}`);
}

function stageIters(ctx: Ctx, stage: StageName): number {
  if (ctx.opts.iters !== undefined) return ctx.opts.iters;
  return stage === 'head' ? ctx.schedule.headIters : stage === 'lips' ? ctx.schedule.lipsIters : ctx.schedule.torsoIters;
}

/** Coarse-to-fine: a quarter of the levels at first, all of them by half of the head stage. */
export function progressiveLevels(levels: number, it: number, iters: number, enabled: boolean): number {
  if (!enabled) return levels;
  const r = Math.min(1, it / Math.max(1, 0.5 * iters));
  return Math.max(1, Math.min(levels, Math.ceil(levels * (0.25 + 0.75 * r))));
}

function activeLevels(ctx: Ctx, stage: StageName, it: number, iters: number): ActiveLevels {
  const c = ctx.config;
  const prog = stage === 'head' && ctx.opts.progressive;
  return {
    head: progressiveLevels(c.head.grid.levels, it, iters, prog),
    condition: progressiveLevels(c.condition.grid.levels, it, iters, prog),
    torso: c.torso ? c.torso.grid.levels : 1,
  };
}

/**
 * Steps over which a head field started from a prior ramps its learning rates up from a tenth
 * of the preset's. Adam's first steps move every weight by about the rate whatever its gradient
 * (the moments have not yet measured anything), and the presets' rates are set for random
 * weights: at the full rate 4 steps a stage washed the built-in face out into a blur with no
 * mouth on a page-prepared take, at a tenth the face and its opening mouth stay (measured with
 * the CPU reference, tiny preset, 128 px take, 256 rays). The torso starts fresh: no ramp.
 */
export const PRIOR_WARMUP_STEPS = 200;

export function priorWarmup(it: number): number {
  return Math.min(1, 0.1 + (0.9 * it) / PRIOR_WARMUP_STEPS);
}

function learningRates(ctx: Ctx, stage: StageName, it: number, iters: number): Map<string, number> {
  const decay = Math.pow(0.1, it / iters) * (ctx.opts.prior && stage !== 'torso' ? priorWarmup(it) : 1);
  const lr = new Map<string, number>();
  for (const g of ctx.groups) {
    if (stage === 'torso' ? g.stage !== 'torso' : g.stage !== 'head') continue;
    // The lips fine-tune freezes the grids (the reference's "grid frozen").
    if (stage === 'lips' && g.kind === 'grid') continue;
    const net = g.stage === 'torso' ? ctx.schedule.lrTorsoNet : ctx.schedule.lrNet;
    lr.set(g.name, (g.kind === 'grid' ? ctx.schedule.lrGrid : net) * decay);
  }
  return lr;
}

function condition(ctx: Ctx, i: number): FrameCondition {
  return { points: ctx.data.points('train', i, ctx.config.condition.window), eye: ctx.data.train.eye[i] };
}

async function refreshOccupancy(ctx: Ctx, levels: ActiveLevels): Promise<void> {
  const s = ctx.schedule;
  const probe = occupancyProbe(ctx.rng, ctx.config.march.gridResolution, ctx.state.occupancyRefreshes);
  const frame = ctx.rng.int(ctx.data.train.split.frames.length);
  await ctx.backend.updateOccupancy({ condition: condition(ctx, frame), cells: probe.cells, points: probe.points, decay: s.occupancyDecay, thresholdCap: s.occupancyThresholdCap, activeLevels: levels });
  ctx.state.occupancyRefreshes++;
}

async function refreshTorsoDensity(ctx: Ctx, levels: ActiveLevels): Promise<void> {
  const t = ctx.config.torso!;
  const res = t.densityResolution;
  const frame = ctx.rng.int(ctx.data.train.split.frames.length);
  const out = await ctx.backend.torsoForward({ pose: ctx.data.frame('train', frame).pose, coords: torsoGridCoords(res), activeLevels: levels }, false);
  const d = ctx.state.torsoDensity!;
  for (let i = 0; i < res * res; i++) d[i] = Math.max(d[i] * ctx.schedule.occupancyDecay, out.alpha[i]);
}

/** One head or lips step; returns the loss and samples. */
async function headStep(ctx: Ctx, stage: StageName, it: number, iters: number): Promise<{ loss: number; samples: number }> {
  const { data, rng, schedule: s, config } = ctx;
  const W = data.width;
  const H = data.height;
  const f = rng.int(data.train.split.frames.length);
  const frame = data.frame('train', f);
  const imgs = await data.images('train', f);
  const levels = activeLevels(ctx, stage, it, iters);
  // Lips fine-tune: even steps a patch on the lips rectangle, odd steps random rays (reference).
  const patch = stage === 'lips' && it % 2 === 0;
  const rays = ctx.opts.rays ?? s.rays;
  const pixels = patch ? patchPixels(rng, W, H, s.lipsPatch, frame.lipsRect) : samplePixels(rng, W, H, rays, frame.faceRect, stage === 'head' ? s.faceFraction : 0);
  const tr = raysForPixels(data.subject.camera, config, frame.pose, pixels, rng);
  const out = await ctx.backend.headForward({ condition: condition(ctx, f), rays: tr, activeLevels: levels }, true);
  const n = pixels.length;
  const bg = gather3(imgs.headBackground, pixels);
  const target = gather3(imgs.image, pixels);
  const color = new Float64Array(3 * n);
  blendBackground(out.rgb, out.weightSum, bg, color);
  const dColor = new Float64Array(3 * n);
  let loss = mseLoss(color, target, null, dColor);
  const dWs = new Float64Array(n);
  if (patch) {
    const side = Math.round(Math.sqrt(n));
    const win = gaussianWindow(Math.min(11, side), 1.5);
    const dS = new Float64Array(3 * n);
    const w = ctx.opts.lipsStructureWeight ?? s.lipsStructureWeight;
    loss += w * ssimLoss(color, target, side, win, w, dS);
    for (let i = 0; i < dColor.length; i++) dColor[i] += dS[i];
  } else {
    loss += s.entropyWeight * weightEntropyLoss(out.weightSum, s.entropyWeight, dWs);
  }
  const maskWeight = ctx.opts.maskWeight ?? s.maskWeight;
  if (maskWeight > 0) loss += maskWeight * maskLoss(out.weightSum, maskTargets(imgs.parsing, pixels), maskWeight, dWs);
  const dRgb = new Float64Array(3 * n);
  blendBackgroundBackward(dColor, bg, dRgb, dWs);
  await ctx.backend.headBackward(Float32Array.from(dRgb), Float32Array.from(dWs));
  await ctx.backend.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr: learningRates(ctx, stage, it, iters) });
  return { loss, samples: out.samples };
}

async function torsoStep(ctx: Ctx, it: number, iters: number): Promise<{ loss: number; samples: number }> {
  const { data, rng, schedule: s, config } = ctx;
  const W = data.width;
  const H = data.height;
  const f = rng.int(data.train.split.frames.length);
  const frame = data.frame('train', f);
  const imgs = await data.images('train', f);
  const levels = activeLevels(ctx, 'torso', it, iters);
  const pixels = samplePixelsFromPool(rng, W, H, ctx.opts.rays ?? s.rays, imgs.torsoPixels, s.torsoFraction);
  const tr = raysForPixels(data.subject.camera, config, frame.pose, pixels, rng);
  const head = await ctx.backend.headForward({ condition: condition(ctx, f), rays: tr, activeLevels: levels }, false);
  const n = pixels.length;
  const coords = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const row = Math.floor(pixels[i] / W);
    coords[2 * i] = torsoCoord(row, H);
    coords[2 * i + 1] = torsoCoord(pixels[i] - row * W, W);
  }
  const t = await ctx.backend.torsoForward({ pose: frame.pose, coords, activeLevels: levels }, true);
  const bgc = gather3(data.background, pixels);
  const target = gather3(imgs.image, pixels);
  // torso over background, then the frozen head over that (model-spec §7).
  const color = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = t.alpha[i];
    const rest = 1 - head.weightSum[i];
    for (let k = 0; k < 3; k++) color[3 * i + k] = head.rgb[3 * i + k] + rest * (t.colors[3 * i + k] * a + bgc[3 * i + k] * (1 - a));
  }
  const dColor = new Float64Array(3 * n);
  let loss = mseLoss(color, target, null, dColor);
  const dAlpha64 = new Float64Array(n);
  loss += s.entropyWeight * weightEntropyLoss(t.alpha, s.entropyWeight, dAlpha64);
  const dTorso = new Float32Array(3 * n);
  const dAlpha = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = t.alpha[i];
    const rest = 1 - head.weightSum[i];
    let da = dAlpha64[i];
    for (let k = 0; k < 3; k++) {
      const dBg = rest * dColor[3 * i + k];
      dTorso[3 * i + k] = dBg * a;
      da += dBg * (t.colors[3 * i + k] - bgc[3 * i + k]);
    }
    dAlpha[i] = da;
  }
  await ctx.backend.torsoBackward(dTorso, dAlpha);
  await ctx.backend.adam({ beta1: 0.9, beta2: 0.99, eps: 1e-15, lr: learningRates(ctx, 'torso', it, iters) });
  return { loss, samples: head.samples + n };
}

async function snapshot(ctx: Ctx): Promise<void> {
  const b = ctx.backend;
  ctx.state.params = await b.readParams();
  ctx.state.moments = await b.readMoments();
  ctx.state.occupancy = await b.readOccupancy();
  ctx.state.rng = ctx.rng.state;
  await ctx.io.writeCheckpoint(encodeCheckpoint(ctx.state));
}

/**
 * EMA of the weights as torch_ema does it for the reference (use_num_updates): the effective
 * decay is min(decay, (1 + n) / (10 + n)) after n updates, so the average follows the weights
 * closely at first and a collapsed early state cannot linger in it.
 */
function updateEma(ctx: Ctx, params: ParamSet): void {
  const n = ++ctx.state.emaUpdates;
  const d = Math.min(ctx.schedule.emaDecay, (1 + n) / (10 + n));
  if (!ctx.state.ema) {
    ctx.state.ema = cloneParams(params);
    return;
  }
  for (const [k, v] of params) {
    const e = ctx.state.ema.get(k)!;
    for (let i = 0; i < v.length; i++) e[i] = d * e[i] + (1 - d) * v[i];
  }
}

/** The weights a stage result is made of: the EMA (the reference evaluates and saves EMA weights). */
async function outputParams(ctx: Ctx): Promise<ParamSet> {
  return ctx.state.ema ? cloneParams(ctx.state.ema) : await ctx.backend.readParams();
}

async function currentAvatar(ctx: Ctx, torsoTrained: boolean, extra: Record<string, number | string | boolean> = {}) {
  const occ = await ctx.backend.readOccupancy();
  const o = ctx.opts;
  return buildAvatar({
    name: o.name ?? 'trained avatar',
    config: ctx.config,
    camera: ctx.data.subject.camera,
    params: await outputParams(ctx),
    bitfield: occ.bitfield,
    torsoDensity: torsoTrained ? ctx.state.torsoDensity : null,
    data: ctx.data,
    provenance: {
      source: 'trainer',
      tool: 'r2talker train',
      version: TRAINER_VERSION,
      preset: o.preset,
      seed: o.seed,
      backend: ctx.backend.name,
      progressive: o.progressive,
      eyeInput: o.eyeInput,
      ...(o.prior ? { prior: o.prior.name } : {}),
      stages: ctx.state.completed.join(','),
      ...ctx.state.metrics,
      ...extra,
    },
  });
}

async function evaluate(ctx: Ctx, stage: StageName, step: number): Promise<HeldOutMetrics> {
  const split = ctx.data.val ? 'val' : 'train';
  const torso = stage === 'torso';
  const avatar = await currentAvatar(ctx, torso);
  const frames = evalFrameIndices(ctx.data.splitData(split).split.frames.length, ctx.opts.evalFrames);
  const m = await evaluateAvatar(avatar, ctx.data, split, frames, torso ? 'full' : 'head');
  ctx.history.push({ stage, step, psnr: m.psnr, mouthPsnr: m.mouthPsnr });
  ctx.lastPsnr = m.psnr;
  return m;
}

function aborted(ctx: Ctx): boolean {
  return ctx.opts.signal?.aborted === true;
}

async function runStage(ctx: Ctx, stage: StageName): Promise<void> {
  const iters = stageIters(ctx, stage);
  const s = ctx.schedule;
  if (ctx.state.stage !== stage || ctx.state.step === 0) {
    ctx.state.stage = stage;
    ctx.state.step = 0;
    ctx.state.ema = null;
    ctx.state.emaUpdates = 0;
    ctx.state.stageIters = iters;
  }
  if (stage === 'torso' && !ctx.state.torsoDensity) ctx.state.torsoDensity = new Float32Array(ctx.config.torso!.densityResolution ** 2);
  // A baseline before the first step, so the rise of held-out PSNR is measured from the start.
  if (ctx.opts.evalEvery > 0 && ctx.state.step === 0) await evaluate(ctx, stage, 0);
  const started = Date.now();
  const startStep = ctx.state.step;
  let lossAvg = NaN;
  let samples = 0;
  let lastYield = Date.now();
  while (ctx.state.step < iters) {
    const it = ctx.state.step;
    // A CPU backend's awaits resolve as microtasks, so without this the event loop would not
    // turn for the whole stage: no Ctrl-C, no timers, no worker messages (vitest's RPC times out).
    if (Date.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = Date.now();
    }
    if (aborted(ctx)) {
      await snapshot(ctx);
      throw new R2TalkerError('ABORTED', `training interrupted at ${stage} step ${it}; resume with --resume`);
    }
    const levels = activeLevels(ctx, stage, it, iters);
    if (stage !== 'torso' && it % s.occupancyEvery === 0) await refreshOccupancy(ctx, levels);
    if (stage === 'torso' && it % s.occupancyEvery === 0) await refreshTorsoDensity(ctx, levels);
    const r = stage === 'torso' ? await torsoStep(ctx, it, iters) : await headStep(ctx, stage, it, iters);
    if (!Number.isFinite(r.loss)) throw new R2TalkerError('INTERNAL', `${stage} step ${it}: the loss is ${r.loss}; lower the learning rate or check the subject`);
    lossAvg = Number.isNaN(lossAvg) ? r.loss : 0.9 * lossAvg + 0.1 * r.loss;
    samples = r.samples;
    ctx.state.step = it + 1;
    if (ctx.state.step % s.emaEvery === 0) updateEma(ctx, await ctx.backend.readParams());
    const done = ctx.state.step;
    if (ctx.opts.evalEvery > 0 && done % ctx.opts.evalEvery === 0 && done < iters) await evaluate(ctx, stage, done);
    if (ctx.opts.onPreview && ctx.opts.previewEvery && done % ctx.opts.previewEvery === 0) {
      const split = ctx.data.val ? 'val' : 'train';
      const m = await evaluateAvatar(await currentAvatar(ctx, stage === 'torso'), ctx.data, split, [0], stage === 'torso' ? 'full' : 'head');
      await ctx.opts.onPreview({ stage, step: done, width: ctx.data.width, height: ctx.data.height, image: m.images[0] });
    }
    if (ctx.opts.checkpointEvery > 0 && done % ctx.opts.checkpointEvery === 0 && done < iters) await snapshot(ctx);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (done - startStep) / elapsed : 0;
    ctx.opts.onProgress?.({ stage, step: done, iters, loss: lossAvg, psnr: ctx.lastPsnr, stepsPerSecond: rate, etaSeconds: rate > 0 ? (iters - done) / rate : Infinity, samples });
  }
  // Stage end: a last EMA update so the output includes the final steps, metrics, .r2t, checkpoint.
  updateEma(ctx, await ctx.backend.readParams());
  const m = await evaluate(ctx, stage, iters);
  ctx.state.metrics[`${stage}_steps`] = iters;
  ctx.state.metrics[`${stage}_psnr`] = Math.round(m.psnr * 1000) / 1000;
  ctx.state.metrics[`${stage}_mouth_psnr`] = Math.round(m.mouthPsnr * 1000) / 1000;
  ctx.state.completed = [...ctx.state.completed.filter((x) => x !== stage), stage];
  const avatar = await currentAvatar(ctx, ctx.state.completed.includes('torso'), { psnr_val: m.psnr, mouth_psnr_val: m.mouthPsnr, heldout_frames: m.frames });
  await ctx.io.writeAvatar(writeAvatar(avatar), stage);
  // The next stage starts from the EMA weights that were just written.
  if (ctx.state.ema) await ctx.backend.writeParams(ctx.state.ema);
  await snapshot(ctx);
}

export async function trainNerf(backend: TrainerBackend, subjectData: TrainingData, opts: NerfTrainOptions, io: TrainIo): Promise<TrainSummary> {
  validateOptions(opts);
  if (opts.prior && !opts.prior.landmarkStats) throw new ConfigError(`--prior: ${opts.prior.name} has no landmark statistics, so the subject's landmarks cannot be mapped into its space; start from a trained avatar`);
  const data = opts.prior ? subjectData.mappedTo(opts.prior.landmarkStats!) : subjectData;
  const preset = getPreset(opts.preset);
  const base = preset.config({ eyeInput: opts.eyeInput, torso: true });
  const config = opts.aabb ? { ...base, aabb: opts.aabb } : base;
  const groups = paramGroups(config);
  const fp = fingerprint(opts, data);
  let state: TrainerState;
  const rng = new Rng(opts.seed);
  if (opts.resume) {
    const bytes = await io.readCheckpoint();
    if (!bytes) throw new ConfigError('--resume: no checkpoint to resume from');
    state = decodeCheckpoint(bytes);
    if (state.fingerprint !== fp) throw new ConfigError(`--resume: the checkpoint was made with other settings (${state.fingerprint}); run with the same preset, seed, rays, options and subject`);
    rng.state = state.rng;
    await backend.init({ config, camera: data.subject.camera, groups, params: state.params });
    await backend.writeMoments(state.moments);
    await backend.writeOccupancy(state.occupancy);
  } else {
    // The random draws of a fresh start are made either way, so the rest of the run (frames,
    // rays) draws the same numbers with or without a prior.
    const fresh = initParams(config, rng);
    const params = opts.prior ? new Map([...fresh, ...headParamsFromAvatar(config, opts.prior)]) : fresh;
    const seen = untrainedOccupancy(data.subject.camera, config.march.gridResolution, data.train.split.poses);
    state = {
      fingerprint: fp,
      stage: opts.stages[0],
      step: 0,
      completed: [],
      rng: rng.state,
      occupancyRefreshes: 0,
      params,
      moments: new Map(),
      occupancy: opts.prior ? priorOccupancy(seen, opts.prior, preset.schedule.occupancyThresholdCap) : seen,
      ema: null,
      emaUpdates: 0,
      stageIters: 0,
      torsoDensity: null,
      metrics: {},
    };
    await backend.init({ config, camera: data.subject.camera, groups, params });
    await backend.writeOccupancy(state.occupancy);
  }
  const ctx: Ctx = { backend, data, opts, io, schedule: preset.schedule, config, groups, rng, state, history: [], lastPsnr: null };
  const wanted = STAGE_ORDER.filter((s) => opts.stages.includes(s));
  // A stage interrupted midway continues only with its own length (the lr schedule depends on it).
  if (opts.resume && !state.completed.includes(state.stage) && wanted.includes(state.stage) && state.step > 0 && state.stageIters !== stageIters(ctx, state.stage)) {
    throw new ConfigError(`--resume: the ${state.stage} stage was started with ${state.stageIters} steps; resume it with --iters ${state.stageIters}`);
  }
  for (const stage of wanted) {
    if (state.completed.includes(stage) && !(opts.resume && state.stage === stage && state.step < stageIters(ctx, stage))) continue;
    if (stage !== 'head' && !state.completed.includes('head')) throw new ConfigError(`--stage ${stage}: the head stage must be trained first (run --stage head, or all)`);
    await runStage(ctx, stage);
  }
  return { completed: state.completed, metrics: state.metrics, history: ctx.history };
}
