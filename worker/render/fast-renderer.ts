/**
 * Fast mode on WebGPU (issue 14; CPU reference worker/model/fast-renderer.ts FastCpuRenderer,
 * the same decisions from the same numbers). The field work runs on the GPU: each round marches
 * a list of pixels through exact mode's wavefront with the fast kernels (depth-guided skipping
 * with the validity replay, colour only where it shows, each sample's FiLM sensitivity;
 * fast-wavefront-pass.ts, shaders/fast/). The host does what is per pixel and cheap: it
 * reprojects the previous frame's surface into the new camera for each ray's evaluation start
 * (worker/model/fast-reproject.ts), marches the coarse lattice, then per finer lattice
 * interpolates the pixels whose neighbours agree and are quiet and marches the rest
 * (worker/model/fast-refine.ts), and finally uploads every pixel's head result for exact mode's
 * torso and output passes. Each round composites one sample per ray at a time and runs the head
 * net's colour half only on samples whose weight shows (the CPU reference's colour gate), so the
 * GPU evaluates the reference's samples.
 * The torso (worker/model/fast-torso.ts, the reference's own decisions): only pixels the head
 * leaves visible, on the same lattice, interpolated where neighbours agree; each torso lattice
 * level goes to the fused torso kernel in the submission of the head's next level (its list needs
 * the head's weight sums of that level), the last one alone (premultiplied torso read back), and
 * the host uploads bg' for the output pass. Round trips: head levels + 1 + the finishing pass
 * (4 at a 2-pixel lattice). Rounds with nothing to evaluate are skipped.
 */
import type { Avatar } from '../avatar/types.ts';
import { validateCamera, validateModelConfig } from '../avatar/config.ts';
import { ConfigError, GpuError, R2TalkerError } from '../errors.ts';
import { acquireGpu, reacquireGpu, type GpuContext } from '../gpu/device.ts';
import { buildPasses, destroyPasses, LossWatch } from './pass-set.ts';
import { headHalfMacs } from '../model/fast-field.ts';
import { filmScale } from '../model/fast-field.ts';
import { loadModelWeights } from '../model/weights.ts';
import { FAST_MODE_DEFAULTS, checkFastModeOptions, filmToleranceAt, strideAt, torsoPixelMacs, type FastModeOptions } from '../model/fast-renderer.ts';
import { refineLevel, type PixelState } from '../model/fast-refine.ts';
import { TorsoRefiner } from '../model/fast-torso.ts';
import { predictStarts, surfacePoints } from '../model/fast-reproject.ts';
import { stepBounds } from '../model/march.ts';
import { foldedTorsoMacs } from '../model/torso-folded.ts';
import { rayDirection } from '../model/rays.ts';
import { ConditionPass } from './condition-pass.ts';
import { FAST_RAY_WORDS, FastWavefrontPass, fastSlots, fastStateBytes, fastStepwiseFits, type FastRoundResult } from './fast-wavefront-pass.ts';
import { backgroundValues, FrameBuffers } from './frame-buffers.ts';
import { writeConditioning } from './frame-conditioning.ts';
import { checkPose } from './frame-data.ts';
import { HeadFieldPass } from './head-field-pass.ts';
import { makeBuffer, STORAGE, UNIFORM } from './gpu-util.ts';
import { MAX_SAMPLES_PER_INVOCATION } from './mlp-codegen.ts';
import { OutputPass } from './output-pass.ts';
import { SOFTWARE_SAMPLES_PER_INVOCATION, type GpuFrameInput, type GpuRendererOptions } from './renderer.ts';
import { TorsoPass } from './torso-pass.ts';

/** alpha at which a sample counts as the ray's surface (as the CPU reference). */
const HIT_ALPHA = 0.02;

export interface GpuFastRendererOptions extends Omit<GpuRendererOptions, 'kernels' | 'compositing' | 'traceCap'> {
  fast?: Partial<FastModeOptions>;
  /**
   * Run the head net's colour half only on samples whose weight shows (default: wherever the
   * schedule composites stepwise and the per-ray geometry features fit one storage binding);
   * false colours every evaluated sample in the density kernel, as large images must.
   */
  colourGate?: boolean;
}

export interface GpuFastFrameStats {
  /** Head samples the field net's density half ran on. */
  evaluatedSamples: number;
  /** Head samples its colour half ran on (with the colour gate, those whose weight shows; else all evaluated). */
  colouredSamples: number;
  marchedRays: number;
  replayedRays: number;
  /** Pixels the torso nets ran on. */
  torsoPixels: number;
  /** Multiply-adds of the torso nets (the fused kernel folds the frame's pose and code columns into a per-frame bias on the host, counted here). */
  torsoMacs: number;
  /** GPU round trips of the frame (marching rounds + the finishing pass). */
  submits: number;
  /** Multiply-adds of the head and torso nets (each half of the head net counted where it ran). */
  macs: number;
}

export interface GpuFastResult {
  width: number;
  height: number;
  texture: GPUTexture;
  /** H*W*3 in [0,1], when 'image' was requested. */
  image?: Float32Array;
  weightSum?: Float32Array;
  rgba?: Uint8Array;
  stats: GpuFastFrameStats;
}

interface Passes {
  fb: FrameBuffers;
  /** Fast state (fast-wavefront-pass.ts) and the previous frame's FiLM vectors. */
  state: GPUBuffer;
  filmPrev: GPUBuffer;
  condition: ConditionPass;
  field: HeadFieldPass;
  wave: FastWavefrontPass;
  torso: TorsoPass | null;
  output: OutputPass;
}

export class GpuFastRenderer {
  readonly options: FastModeOptions;
  private ctx: GpuContext;
  private passes: Passes;
  private readonly loss = new LossWatch();
  private destroyed = false;
  private prevSurface: Float32Array | null = null;
  /** Directions of every pixel's ray for the current pose (host copy, for the surface points). */
  private readonly dirs: Float32Array;
  /** Fast torso (fused torso kernel only; else the whole torso runs in the finishing pass). */
  private readonly refiner: TorsoRefiner | null;
  private readonly background: Float32Array;
  /** The torso's position tables are counted with the first frame that uses them. */
  private tablesCounted = false;
  /** The head net's FiLM scale (worker/model/fast-field.ts filmScale()), the unit of options.filmTolerance. */
  readonly filmScale: number;

  private constructor(readonly avatar: Avatar, private readonly gpuOptions: GpuFastRendererOptions, ctx: GpuContext, passes: Passes, options: FastModeOptions, filmScale: number) {
    this.filmScale = filmScale;
    this.ctx = ctx;
    this.passes = passes;
    this.options = options;
    this.dirs = new Float32Array(avatar.camera.width * avatar.camera.height * 3);
    this.refiner = passes.torso?.kind === 'fused' ? new TorsoRefiner(avatar.camera.width, avatar.camera.height, passes.torso.pixelList) : null;
    this.background = backgroundValues(avatar);
    this.loss.watch(ctx);
  }

  static async create(avatar: Avatar, options: GpuFastRendererOptions = {}): Promise<GpuFastRenderer> {
    validateModelConfig(avatar.config);
    validateCamera(avatar.camera);
    const fast = { ...FAST_MODE_DEFAULTS, ...options.fast };
    checkFastModeOptions(fast);
    const scale = filmScale(loadModelWeights(avatar));
    const ctx = await (options.acquire ?? (() => acquireGpu(options)))();
    const passes = await GpuFastRenderer.build(avatar, options, fast, ctx);
    return new GpuFastRenderer(avatar, options, ctx, passes, fast, scale);
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  get context(): GpuContext {
    return this.ctx;
  }

  get precision(): 'f32' | 'f16' {
    return this.passes.fb.precision;
  }

  get samplesPerInvocation(): number {
    return this.passes.fb.samplesPerInvocation;
  }

  private static async build(avatar: Avatar, options: GpuFastRendererOptions, fast: FastModeOptions, ctx: GpuContext): Promise<Passes> {
    const want = options.precision ?? 'auto';
    if (want === 'f16' && !ctx.caps.f16) throw GpuError.unavailable("precision 'f16' requested but the adapter has no 'shader-f16'");
    const precision = want === 'auto' ? (ctx.caps.f16 ? 'f16' : 'f32') : want;
    const device = ctx.device;
    return buildPasses<Passes>(device, `GpuFastRenderer(${avatar.name})`, async (made) => {
      const spi = options.samplesPerInvocation ?? (ctx.caps.fallback ? SOFTWARE_SAMPLES_PER_INVOCATION : 1);
      if (!Number.isInteger(spi) || spi < 1 || spi > MAX_SAMPLES_PER_INVOCATION) throw new ConfigError(`samplesPerInvocation: expected an integer 1..${MAX_SAMPLES_PER_INVOCATION}, got ${spi}`);
      const fb = (made.fb = new FrameBuffers(device, avatar, precision, { compile: options.compile, samplesPerInvocation: spi }));
      // Stepwise compositing wherever the config's sub-rounds allow it, with the colour gate where
      // its per-ray geometry features also fit one binding (N x geoFeatDim words: ~650x650 pixels
      // for the official config under WebGPU's default 128 MiB).
      const stepwise = fastStepwiseFits(fb);
      const gatedBytes = fastStateBytes(fb.numRays, avatar.config.head.geoFeatDim);
      const gated = stepwise && (options.colourGate ?? true) && gatedBytes <= Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
      made.state = makeBuffer(device, 'r2t.fast.state', gated ? gatedBytes : fastStateBytes(fb.numRays, 0), STORAGE());
      made.filmPrev = makeBuffer(device, 'r2t.fast.filmPrev', fb.film.size, UNIFORM());
      const slots = fastSlots(fb.numRays);
      const gate = gated ? { rayWords: FAST_RAY_WORDS, slotCol: slots.FAST_SLOT_COL, rayGeo: slots.FAST_RAY_GEO } : undefined;
      made.field = new HeadFieldPass(device, fb, 'fused', { state: made.state, filmPrev: made.filmPrev, slotSens: slots.FAST_SLOT_SENS, gate });
      made.condition = new ConditionPass(device, fb);
      made.wave = new FastWavefrontPass(device, fb, made.field, made.state, { validAlpha: fast.validAlpha, colourWeight: fast.colourWeight, hitAlpha: HIT_ALPHA, terminate: fast.terminate }, stepwise);
      made.torso = avatar.config.torso ? new TorsoPass(device, fb, 'fused', { positionTables: true }) : null;
      made.output = new OutputPass(device, fb);
      const p = made as Passes;
      await Promise.all([p.field.ready, p.condition.ready, p.wave.ready, p.torso?.ready, p.output.ready]);
      return p;
    });
  }

  /** After a device loss: a new device, every pass rebuilt, and the next frame marched in full. */
  private async recover(): Promise<void> {
    destroyPasses(this.passes);
    const ctx = await reacquireGpu(this.gpuOptions);
    this.ctx = ctx;
    this.loss.watch(ctx);
    this.passes = await GpuFastRenderer.build(this.avatar, this.gpuOptions, this.options, ctx);
    this.reset();
  }

  /** Forgets the previous frame (a cut, a new pose track): the next frame marches every sample. */
  reset(): void {
    this.prevSurface = null;
    this.refiner?.reset();
  }

  async render(frame: GpuFrameInput, readback: ('image' | 'rgba')[] = ['image', 'rgba']): Promise<GpuFastResult> {
    if (this.destroyed) throw new R2TalkerError('INTERNAL', 'GpuFastRenderer.render: the renderer was destroyed');
    if (this.loss.lost) await this.recover();
    try {
      return await this.renderOnce(frame, readback);
    } catch (e) {
      if (!(await this.loss.check())) throw e;
      await this.recover();
      return this.renderOnce(frame, readback);
    }
  }

  private async renderOnce(frame: GpuFrameInput, readback: ('image' | 'rgba')[]): Promise<GpuFastResult> {
    checkPose(frame.pose);
    if (!Number.isFinite(frame.eye)) throw new ConfigError(`frame.eye: expected a finite number, got ${frame.eye}`);
    const p = this.passes;
    const device = this.ctx.device;
    const q = device.queue;
    const cam = this.avatar.camera;
    const { width: W, height: H } = cam;
    const N = W * H;
    const cfg = this.avatar.config;
    const o = this.options;
    const mode = writeConditioning(q, p.fb, p.condition, frame);
    p.field.setEye(frame.eye);
    p.torso?.prepare(frame.pose);
    for (let row = 0, i = 0; row < H; row++) for (let col = 0; col < W; col++, i++) rayDirection(cam, frame.pose, col, row, this.dirs.subarray(i * 3, i * 3 + 3));
    const tStart = predictStarts(cam, frame.pose, this.prevSurface, o.marginSteps * stepBounds(cfg.march).dtMax);
    // The first frame (no previous FiLM vectors to compare with) marches every pixel, as the reference does.
    const primed = this.prevSurface !== null;
    const px: PixelState = {
      rgb: new Float32Array(N * 3),
      weightSum: new Float32Array(N),
      hitT: new Float32Array(N).fill(NaN),
      sensitivity: new Float32Array(N).fill(primed ? 0 : Infinity),
    };
    const stats: GpuFastFrameStats = { evaluatedSamples: 0, colouredSamples: 0, marchedRays: 0, replayedRays: 0, torsoPixels: 0, torsoMacs: 0, submits: 0, macs: 0 };
    let conditioned = false;
    const refiner = this.refiner;
    const torso = refiner ? p.torso : null;
    const torsoTol = { colour: o.colourTolerance, curvature: o.curvatureTolerance };
    // One round trip: the head's rays of `list` and, in the same submission, the torso's pixels
    // of `torsoList` (the lattice level the previous round made final).
    const round = async (list: ArrayLike<number>, torsoList: Uint32Array | null): Promise<void> => {
      const pixels = Uint32Array.from(list);
      const withTorso = torso && refiner && torsoList && torsoList.length > 0 ? torsoList : null;
      if (pixels.length === 0 && !withTorso) return;
      const r = await this.round(pixels.length > 0 ? (conditioned ? null : mode) : null, frame.pose, pixels, tStart, withTorso);
      stats.submits++;
      if (withTorso) refiner!.store(withTorso, r.torso!);
      if (pixels.length === 0) return;
      conditioned = true;
      const h = r.head!;
      for (let j = 0; j < pixels.length; j++) {
        const i = pixels[j];
        px.rgb.set(h.rgb.subarray(j * 3, j * 3 + 3), i * 3);
        px.weightSum[i] = h.weightSum[j];
        px.hitT[i] = h.hitT[j];
        if (primed) px.sensitivity[i] = h.sensitivity[j];
      }
      stats.evaluatedSamples += h.evaluated;
      stats.colouredSamples += h.colourEvaluated;
      stats.marchedRays += pixels.length;
      stats.replayedRays += h.replayed;
    };
    const stride = !primed ? 1 : strideAt(o, W, H);
    const coarse: number[] = [];
    for (let r = 0; r < H; r += stride) for (let c = 0; c < W; c += stride) coarse.push(r * W + c);
    await round(coarse, null);
    // The torso's lattice trails the head's by one level (fast-torso.ts start / levelList).
    let torsoList = torso ? refiner!.start(frame.pose, px.weightSum, o.torsoVisible, stride) : null;
    const dtMax = stepBounds(cfg.march).dtMax;
    const tol = { colour: o.colourTolerance, depth: o.depthTolerance * dtMax, film: filmToleranceAt(o, W, H, this.filmScale), curvature: o.curvatureTolerance };
    for (let s = stride; s > 1; s /= 2) {
      // refineLevel interpolates from the coarser lattice only, so the pixels it leaves to march
      // can go to the GPU after it returns.
      let pending: number[] = [];
      refineLevel(px, W, H, s, tol, (list) => {
        pending = list;
      });
      await round(pending, torsoList);
      torsoList = torso ? refiner!.levelList(s, px.weightSum, o.torsoVisible, torsoTol) : null;
    }
    await round([], torsoList);
    const { rgb, weightSum, hitT } = px;
    const origins = new Float32Array(N * 3);
    for (let i = 0; i < N; i++) origins.set([frame.pose[3], frame.pose[7], frame.pose[11]], i * 3);
    this.prevSurface = surfacePoints(origins, this.dirs, hitT, this.prevSurface ?? undefined);

    // The head of every pixel into the ray buffer, where the output pass reads it.
    const rays = new Float32Array(N * 12);
    for (let i = 0; i < N; i++) {
      rays[i * 12 + 4] = rgb[i * 3];
      rays[i * 12 + 5] = rgb[i * 3 + 1];
      rays[i * 12 + 6] = rgb[i * 3 + 2];
      rays[i * 12 + 7] = weightSum[i];
    }
    q.writeBuffer(p.fb.rays, 0, rays);
    if (torso && refiner) {
      refiner.finish(weightSum, o.torsoVisible);
      const bg = new Float32Array(N * 3);
      refiner.composite(this.background, bg);
      const bg4 = new Float32Array(N * 4);
      for (let i = 0; i < N; i++) bg4.set(bg.subarray(i * 3, i * 3 + 3), i * 4);
      q.writeBuffer(p.fb.bgFinal, 0, bg4);
      stats.torsoPixels = refiner.evaluated;
      // The fused kernel folds the frame's pose and code columns into a host-made bias (counted
      // once a frame), and with position tables adds two table rows instead of freq(x) columns.
      const m = foldedTorsoMacs(cfg.torso!, W, H);
      const perPixel = torso.positionTables ? m.pixel : torsoPixelMacs(this.avatar) - m.frame;
      stats.torsoMacs = refiner.evaluated > 0 ? refiner.evaluated * perPixel + m.frame : 0;
      if (torso.positionTables && !this.tablesCounted) {
        stats.torsoMacs += m.setup;
        this.tablesCounted = true;
      }
    }
    const enc = device.createCommandEncoder({ label: 'r2t.fast.finish' });
    if (p.torso && !refiner) {
      p.torso.run(enc);
      stats.torsoPixels = p.torso.pixelCount;
      stats.torsoMacs = p.torso.pixelCount * torsoPixelMacs(this.avatar);
    }
    p.output.run(enc);
    // The next frame's sensitivity compares its FiLM vectors with these (a copy made in this
    // submit: the next frame's upload of its own vectors is queued before its first round).
    enc.copyBufferToBuffer(p.fb.film, 0, p.filmPrev, 0, p.fb.film.size);
    const staged: [string, GPUBuffer][] = [];
    const stage = (key: string, src: GPUBuffer, bytes: number) => {
      const dst = device.createBuffer({ label: `r2t.fast.readback.${key}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      staged.push([key, dst]);
    };
    const want = new Set(readback);
    if (want.has('image')) stage('image', p.fb.image, N * 16);
    if (want.has('rgba')) stage('rgba', p.fb.rgba8, N * 4);
    q.submit([enc.finish()]);
    stats.submits++;
    const half = headHalfMacs(cfg);
    stats.macs = stats.evaluatedSamples * half.sigma + stats.colouredSamples * half.colour + stats.torsoMacs;
    const out: GpuFastResult = { width: W, height: H, texture: p.fb.texture, stats };
    try {
      await Promise.all(staged.map(([, b]) => b.mapAsync(GPUMapMode.READ)));
      for (const [key, b] of staged) {
        if (key === 'image') {
          const img = new Float32Array(b.getMappedRange().slice(0));
          out.image = new Float32Array(N * 3);
          out.weightSum = new Float32Array(N);
          for (let i = 0; i < N; i++) {
            out.image[i * 3] = img[i * 4];
            out.image[i * 3 + 1] = img[i * 4 + 1];
            out.image[i * 3 + 2] = img[i * 4 + 2];
            out.weightSum[i] = img[i * 4 + 3];
          }
        } else out.rgba = new Uint8Array(b.getMappedRange().slice(0));
      }
      if (staged.length === 0) await q.onSubmittedWorkDone();
    } finally {
      for (const [, b] of staged) b.destroy();
    }
    return out;
  }

  /**
   * One round trip: a marching round over `pixels` (with the frame's conditioning first when
   * `mode` is given) and the fused torso kernel over `torsoList` (alpha and premultiplied rgb of
   * each), either of them empty.
   */
  private async round(mode: Parameters<ConditionPass['run']>[1] | null, pose: Float32Array, pixels: Uint32Array, tStartAll: Float32Array, torsoList: Uint32Array | null): Promise<{ head?: FastRoundResult; torso?: Float32Array }> {
    const p = this.passes;
    const device = this.ctx.device;
    const N = this.avatar.camera.width * this.avatar.camera.height;
    const enc = device.createCommandEncoder({ label: 'r2t.fast.round' });
    let staged: GPUBuffer[] | null = null;
    if (pixels.length > 0) {
      const starts = new Float32Array(pixels.length);
      for (let j = 0; j < pixels.length; j++) starts[j] = tStartAll[pixels[j]];
      // The fused head kernel indexes the ray and alive lists by the list length.
      device.queue.writeBuffer(p.field.params, 4, new Uint32Array([pixels.length]));
      if (mode) p.condition.run(enc, mode);
      p.wave.encode(enc, pose, pixels, starts);
      staged = p.wave.stage(enc, pixels.length);
    }
    let torsoOut: GPUBuffer | null = null;
    if (torsoList && torsoList.length > 0) {
      const torso = p.torso!;
      torso.setList(torsoList);
      torso.run(enc);
      torsoOut = device.createBuffer({ label: 'r2t.fast.readback.torso', size: N * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.copyBufferToBuffer(p.fb.bgFinal, 0, torsoOut, 0, N * 16);
    }
    device.queue.submit([enc.finish()]);
    const out: { head?: FastRoundResult; torso?: Float32Array } = {};
    try {
      const [head] = await Promise.all([staged ? p.wave.read(staged, pixels.length) : null, torsoOut?.mapAsync(GPUMapMode.READ)]);
      if (head) out.head = head;
      if (torsoOut && torsoList) {
        const all = new Float32Array(torsoOut.getMappedRange());
        const t = new Float32Array(torsoList.length * 4);
        for (let j = 0; j < torsoList.length; j++) {
          const n = torsoList[j];
          t[j * 4] = all[n * 4 + 3];
          t[j * 4 + 1] = all[n * 4];
          t[j * 4 + 2] = all[n * 4 + 1];
          t[j * 4 + 3] = all[n * 4 + 2];
        }
        out.torso = t;
      }
    } finally {
      torsoOut?.destroy();
    }
    return out;
  }

  /** Idempotent; also destroys the device this renderer acquired. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    destroyPasses(this.passes);
    if (!this.gpuOptions.acquire) this.ctx.device.destroy();
  }
}

