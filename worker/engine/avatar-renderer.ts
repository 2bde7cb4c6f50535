/**
 * Renders one avatar from landmark windows, on WebGPU (worker/render/renderer.ts) where the
 * worker gets an adapter and on the CPU reference (worker/model/cpu-renderer.ts) otherwise.
 * Runs inside the render worker.
 *
 * Normalisation statistics, in order of preference: the avatar's own landmarkStats (what it
 * was trained with); for the hand-made test head, the statistics of its reference landmark
 * track (its landmark convention is defined by that track); otherwise running statistics of
 * the landmarks the generator actually produces (per-number mean and std, updated every
 * rendered frame, std floored), so an avatar without stats still gets centred, unit-scale
 * conditioning instead of clamped garbage.
 */
import type { Avatar } from '../avatar/types.ts';
import { demoLandmarkTrack } from '../avatar/synthetic.ts';
import { GpuError } from '../errors.ts';
import { computeFilm, LandmarkConditioner } from '../model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../model/cpu-renderer.ts';
import { landmarkStatistics, normaliseClamp, type LandmarkStatistics } from '../model/landmarks.ts';
import { DEFAULT_EYE, eyeOpenLevel, pingPongIndex, smoothEye, smoothPoses } from '../model/poses.ts';
import { loadModelWeights, type ModelWeights } from '../model/weights.ts';
import { GpuRenderer, type GpuRendererOptions } from '../render/renderer.ts';
import { GpuFastRenderer } from '../render/fast-renderer.ts';
import { downscaleAvatar } from './cpu-reference-renderer.ts';
import type { FrameRenderer, RenderInput, RenderedFrame } from './interfaces.ts';
import { FastCpuRenderer } from '../model/fast-renderer.ts';
import { enableSimd } from '../model/simd-mlp.ts';
import { lipFilms } from '../model/speech-region.ts';
import { QualityGovernor, type GovernorOptions, type Quality, type QualityMode, type QualityState } from './quality-governor.ts';
import { ResolutionLadder } from './resolution-ladder.ts';
import { EngineChooser, MAX_THREADS, RenderPool, type ChooserOptions, type PoolHost, type RenderEngine } from './render-pool.ts';

export type Backend = 'webgpu' | 'cpu-reference';
export type StatsSource = 'avatar' | 'demo-track' | 'running';

export interface RendererChoice {
  /** 'auto': WebGPU when an adapter exists, else the CPU reference. */
  backend: 'auto' | 'cpu';
  /** Render at most this many pixels on the longer side (integer downscale of the camera). */
  maxSide: number;
  /** The CPU reference is slow: it renders at most this side whatever maxSide says. */
  cpuMaxSide: number;
  /**
   * Exact or fast mode (WebGPU and CPU paths); 'auto' tries fast mode when exact misses budgetMs
   * and keeps whichever it measures faster (quality-governor.ts) (default 'exact').
   */
  quality?: QualityMode;
  /** Frame budget of 'auto', ms (default 40: 25 fps). */
  budgetMs?: number;
  /** The rest of the governor's settings (GOVERNOR_DEFAULTS where absent). */
  governor?: Partial<Omit<GovernorOptions, 'budgetMs'>>;
  /**
   * The automatic CPU fallback (backend 'auto' without a usable adapter, quality not 'exact')
   * may halve its render side down to this when renders stay slower than cpuBudgetMs
   * (resolution-ladder.ts); unset, or with backend 'cpu', the side stays fixed.
   */
  cpuMinSide?: number;
  /** Render budget of that ladder, ms (default 125: 8 renders a second). */
  cpuBudgetMs?: number;
  /**
   * The CPU path runs the head nets' layers in WebAssembly SIMD and the head's grid encoding in
   * WebAssembly where the runtime has them (simd-mlp.ts, wasm-grid.ts; the same pixels as the TS
   * code, ~40% less CPU time a 64 px frame); false keeps TS (default true).
   */
  cpuSimd?: boolean;
  /**
   * Render threads of the CPU path's fast frames (render-pool.ts: the frame split into column bands,
   * the same pixels as one thread): 1 renders in the render worker alone; 0 or unset, one per
   * core up to DEFAULT_MAX_THREADS. Needs a PoolHost (AvatarRenderer.create); without one, 1.
   */
  cpuThreads?: number;
  /** How the pool and one thread are compared (render-pool.ts EngineChooser; CHOOSER_DEFAULTS where absent). */
  cpuChooser?: Partial<ChooserOptions>;
}

/** cpuThreads 0: one render thread per core, at most this many (a 64 px frame is 8 bands of 8 columns, and halo columns are rendered twice). */
export const DEFAULT_MAX_THREADS = 4;

/** The CPU path's render pool for the current rung: being built, running, or given up (problem). */
interface PoolState {
  host: PoolHost;
  threads: number;
  pool: RenderPool | null;
  /** The rung the pool (or the one being built) renders. */
  rung: number;
  building: Promise<void> | null;
  /** Why the pool stopped (a thread failed to start or died): one thread renders from then on. */
  problem: string | null;
  gen: number;
  /** Pool or one thread, by measurement (the pool's round trips can cost more than it saves on a busy box). */
  chooser: EngineChooser;
  chooserOptions: Partial<ChooserOptions>;
}

/** One render side of the CPU path: the avatar downscaled by `factor` and its renderers. */
interface CpuRung {
  factor: number;
  camera: { width: number; height: number };
  renderer: CpuRenderer;
  fast: FastCpuRenderer;
}

/**
 * On the CPU path in fast mode the idle head motion advances the pose every this many renders
 * rather than every render: at an unchanged pose a fast frame re-renders only the speech region
 * (FastCpuRenderer.setSpeechRegion), so speech gets several mouth shapes a second on 2 cores
 * and the head still moves at its own pace, in steps.
 */
export const CPU_POSE_HOLD = 8;

interface CpuPath {
  source: Avatar;
  factors: number[];
  rungs: (CpuRung | null)[];
  governor: QualityGovernor;
  ladder: ResolutionLadder | null;
  /** The conditioning nets (the same at every side): one conditioner keeps the lip EMA across rung switches. */
  weights: ModelWeights;
  conditioner: LandmarkConditioner;
  /**
   * Where speech changes the picture (speech-region.ts), found once at the smallest side (world
   * space, so every side shares it): fast frames at a still pose then re-render only that part.
   * Null where the statistics are still being learnt (running) or the mode is exact.
   */
  speechRegion: Float32Array | null;
  /** The head nets run in WebAssembly SIMD (simd-mlp.ts) on every rung. */
  simd: boolean;
  /** Fast frames on several threads (render-pool.ts), or null for one. */
  pool: PoolState | null;
}

export interface RendererInfo {
  name: string;
  backend: Backend;
  adapter: string | null;
  width: number;
  height: number;
  window: number;
  numbers: number;
  statsSource: StatsSource;
  /** Statistics for retargeting a template-space generator (null when running statistics are used). */
  stats: { mean: Float32Array; std: Float32Array; frames: number } | null;
  /** Why WebGPU is not used (null when it is). */
  gpuProblem: string | null;
}

/** Per-number running mean/std, updated in place so the conditioner sees every update. */
class RunningStats implements LandmarkStatistics {
  readonly mean: Float32Array;
  readonly std: Float32Array;
  private readonly m2: Float64Array;
  private n = 0;

  constructor(numbers: number) {
    this.mean = new Float32Array(numbers);
    this.std = new Float32Array(numbers).fill(1);
    this.m2 = new Float64Array(numbers);
  }

  update(frame: Float32Array): void {
    // Past the cap, old frames are forgotten geometrically so the statistics keep adapting
    // (a new speaker, a new mic) instead of freezing.
    const capped = this.n >= 3000;
    if (!capped) this.n++;
    const n = this.n;
    for (let i = 0; i < this.mean.length; i++) {
      const d = frame[i] - this.mean[i];
      this.mean[i] += d / n;
      this.m2[i] = (capped ? (this.m2[i] * (n - 1)) / n : this.m2[i]) + d * (frame[i] - this.mean[i]);
      this.std[i] = n >= 2 ? Math.max(1e-3, Math.sqrt(this.m2[i] / (n - 1))) : 1;
    }
  }
}

/** The integer downscale factor that brings the camera to at most `maxSide`, or 1 when none divides it. */
export function downscaleFactor(width: number, height: number, maxSide: number): number {
  const need = Math.max(1, Math.ceil(Math.max(width, height) / Math.max(16, maxSide)));
  for (let f = need; f <= 16; f++) if (width % f === 0 && height % f === 0) return f;
  return 1;
}

/**
 * Downscale factors of the CPU ladder: `first`, then each double of it that divides the camera
 * and keeps the longer side at least `minSide` (every rung has a quarter of the pixels before it).
 */
export function ladderFactors(width: number, height: number, first: number, minSide: number | undefined): number[] {
  const out = [first];
  if (minSide === undefined) return out;
  if (!(Number.isInteger(minSide) && minSide >= 16)) throw new RangeError(`cpuMinSide: expected an integer >= 16, got ${minSide}`);
  for (let f = first * 2; f <= 16 && width % f === 0 && height % f === 0 && Math.max(width, height) / f >= minSide; f *= 2) out.push(f);
  return out;
}

export class AvatarRenderer implements FrameRenderer {
  readonly isPlaceholder = false;
  private readonly numbers: number;
  private readonly window: number;
  private readonly poses: Float32Array;
  private readonly poseCount: number;
  private readonly eyes: Float32Array | null;
  /** Blink values (interfaces.ts RenderInput.eye, DEFAULT_EYE = open) times this give the avatar's own eye value. */
  private readonly eyeScale: number;
  private readonly points: Float32Array;
  private readonly neutral: Float32Array;
  private readonly scratch: Float32Array;
  private readonly running: RunningStats | null;
  private first = true;
  private destroyed = false;
  private lastQuality: Quality | null = null;
  /**
   * WebGPU path: the quality governor and the fast renderer, built in the background on the
   * exact renderer's device when the mode is not 'exact' (pipelines take seconds to compile on a
   * software adapter, so exact frames keep coming meanwhile); null until it is ready.
   */
  private gpuGovernor: QualityGovernor | null = null;
  private gpuFast: GpuFastRenderer | null = null;
  /** Why the WebGPU fast renderer could not be built (exact mode then stays). */
  gpuFastProblem: string | null = null;

  private constructor(
    readonly info: RendererInfo,
    private readonly avatar: Avatar,
    private readonly stats: LandmarkStatistics,
    private gpu: GpuRenderer | null,
    private readonly cpu: CpuPath | null,
  ) {
    const cond = avatar.config.condition;
    this.numbers = cond.numLandmarks * 3;
    this.window = cond.window;
    const poses = avatar.tensors.get('poses');
    if (!poses || !(poses.data instanceof Float32Array) || poses.data.length === 0 || poses.data.length % 16 !== 0) throw new RangeError('poses: expected [N,4,4] float32');
    this.poseCount = poses.data.length / 16;
    this.poses = smoothPoses(poses.data, this.poseCount, 3);
    const eye = avatar.tensors.get('eye');
    this.eyes = eye && eye.data instanceof Float32Array ? eye.data : null;
    this.eyeScale = eyeOpenLevel(this.eyes) / DEFAULT_EYE;
    this.points = new Float32Array(this.window * this.numbers);
    this.scratch = new Float32Array(this.numbers);
    this.running = stats instanceof RunningStats ? stats : null;
    this.neutral = new Float32Array(this.window * this.numbers);
    for (let j = 0; j < this.window; j++) this.neutral.set(stats.mean, j * this.numbers);
  }

  get name(): string {
    return this.info.backend;
  }

  /**
   * `gpuOptions` lets a host without navigator.gpu (Node's `webgpu` package, for the LiveKit
   * avatar worker) supply its GPU entry point and compile mode; workers pass nothing.
   */
  static async create(source: Avatar, isDemo: boolean, choice: RendererChoice, gpuOptions: GpuRendererOptions = {}, poolHost: PoolHost | null = null): Promise<AvatarRenderer> {
    const numbers = source.config.condition.numLandmarks * 3;
    let stats: LandmarkStatistics;
    let statsSource: StatsSource;
    if (source.landmarkStats) {
      stats = source.landmarkStats;
      statsSource = 'avatar';
    } else if (isDemo) {
      stats = landmarkStatistics(demoLandmarkTrack(100), 100, numbers);
      statsSource = 'demo-track';
    } else {
      stats = new RunningStats(numbers);
      statsSource = 'running';
    }
    const base = {
      window: source.config.condition.window,
      numbers,
      statsSource,
      stats: statsSource === 'running' ? null : { mean: stats.mean, std: stats.std, frames: 100 },
    };
    let gpuProblem: string | null = 'WebGPU not requested';
    if (choice.backend === 'auto') {
      const f = downscaleFactor(source.camera.width, source.camera.height, choice.maxSide);
      const avatar = f > 1 ? downscaleAvatar(source, f) : source;
      try {
        const gpu = await GpuRenderer.create(avatar, gpuOptions);
        const caps = gpu.context.caps;
        const info: RendererInfo = { ...base, name: avatar.name, backend: 'webgpu', adapter: caps.description + (caps.fallback ? ' (software)' : ''), width: avatar.camera.width, height: avatar.camera.height, gpuProblem: null };
        const r = new AvatarRenderer(info, avatar, stats, gpu, null);
        r.startGpuQuality(choice, gpuOptions);
        return r;
      } catch (e) {
        gpuProblem = e instanceof GpuError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
      }
    }
    const f = downscaleFactor(source.camera.width, source.camera.height, Math.min(choice.maxSide, choice.cpuMaxSide));
    const avatar = f > 1 ? downscaleAvatar(source, f) : source;
    const weights = loadModelWeights(avatar);
    const simd = choice.cpuSimd !== false && enableSimd(weights) !== null;
    const quality = choice.quality ?? 'exact';
    const laddered = choice.backend === 'auto' && quality !== 'exact';
    const factors = ladderFactors(source.camera.width, source.camera.height, f, laddered ? choice.cpuMinSide : undefined);
    const cpu: CpuPath = {
      source,
      factors,
      rungs: factors.map((k, i) => (i === 0 ? { factor: k, camera: avatar.camera, renderer: new CpuRenderer(weights, avatar.camera), fast: new FastCpuRenderer(weights, avatar.camera) } : null)),
      governor: new QualityGovernor(quality, { ...choice.governor, budgetMs: choice.budgetMs ?? 40 }),
      ladder: factors.length > 1 ? new ResolutionLadder(factors.map((k) => (source.camera.width / k) * (source.camera.height / k)), { budgetMs: choice.cpuBudgetMs ?? 125 }) : null,
      weights,
      conditioner: new LandmarkConditioner(weights, stats),
      speechRegion: null,
      simd,
      pool: null,
    };
    const threads = renderThreads(choice.cpuThreads, poolHost);
    if (poolHost && threads > 1 && quality !== 'exact') {
      cpu.pool = { host: poolHost, threads, pool: null, rung: -1, building: null, problem: null, gen: 0, chooser: new EngineChooser(choice.cpuChooser), chooserOptions: choice.cpuChooser ?? {} };
    }
    // On the CPU path `adapter` names the kernel (the popup shows "CPU ..., WebAssembly SIMD").
    const info: RendererInfo = { ...base, name: avatar.name, backend: 'cpu-reference', adapter: simd ? 'WebAssembly SIMD' : null, width: avatar.camera.width, height: avatar.camera.height, gpuProblem };
    const r = new AvatarRenderer(info, avatar, stats, null, cpu);
    if (quality !== 'exact' && statsSource !== 'running') r.findSpeechRegion(cpu);
    // The first frames come from the pool where it starts (it and one thread draw the same
    // pixels, but a switch between them re-marches a frame in full), else from one thread.
    r.buildPool(cpu, 0);
    await r.poolReady;
    return r;
  }

  private startGpuQuality(choice: RendererChoice, gpuOptions: GpuRendererOptions): void {
    const mode = choice.quality ?? 'exact';
    this.gpuGovernor = new QualityGovernor(mode, { ...choice.governor, budgetMs: choice.budgetMs ?? 40 });
    if (mode === 'exact') return;
    // The exact renderer's device, replaced first if it was lost: while fast mode runs, the
    // exact renderer is idle and would otherwise hand back the lost device forever.
    const acquire = async () => {
      if (!this.gpu) throw new Error('webgpu: renderer destroyed');
      return this.gpu.liveContext();
    };
    this.gpuFastReady = GpuFastRenderer.create(this.avatar, { ...gpuOptions, acquire }).then(
      (fast) => {
        if (this.destroyed) fast.destroy();
        else {
          this.gpuFast = fast;
          // Exact frames timed during the build ran beside the pipeline compile: time them again.
          this.gpuGovernor?.restart();
        }
      },
      (e: unknown) => {
        this.gpuFastProblem = e instanceof Error ? e.message : String(e);
        this.gpuGovernor?.disableFast();
      },
    );
  }

  /** Resolves once the WebGPU fast renderer is built (or failed: gpuFastProblem says why). */
  gpuFastReady: Promise<void> = Promise.resolve();

  /** How many times the GPU device was recreated after a loss. */
  get recoveries(): number {
    return this.gpu?.recoveries ?? 0;
  }

  /** The mode that runs now, as the path's governor decides (fast on WebGPU once its renderer is built). */
  get quality(): Quality {
    if (this.cpu) return this.cpu.governor.quality;
    return this.gpuGovernor?.quality === 'fast' && this.gpuFast ? 'fast' : 'exact';
  }

  /** The mode that runs now, why, and the measured frame times behind the choice (for the popup). */
  get qualityState(): QualityState {
    const g = this.cpu?.governor ?? this.gpuGovernor;
    const v: QualityState = g ? g.view : { mode: 'exact', quality: 'exact', reason: 'set', exactMs: null, fastMs: null, budgetMs: 40 };
    // A WebGPU fast renderer that failed to build leaves exact running whatever the mode.
    const out: QualityState = { ...v, quality: this.quality, reason: this.gpuFastProblem !== null && v.mode !== 'exact' ? 'unavailable' : v.reason };
    if (this.cpu) {
      out.renderThreads = this.renderThreads;
      out.threadsAsked = this.cpu.pool?.threads ?? 1;
      out.threadsProblem = this.cpu.pool?.problem ?? null;
      const c = this.cpu.pool?.chooser;
      if (c && (c.poolMs !== null || c.oneMs !== null)) out.threadsMs = { pool: c.poolMs, one: c.oneMs };
    }
    return out;
  }

  /**
   * CPU path: how many threads render the frames now: the pool's bands while fast mode runs on a
   * working pool that measured faster than one thread (or has not been compared yet), else 1
   * (exact frames, one thread measured faster, the pool still starting, or given up).
   */
  get renderThreads(): number {
    const ps = this.cpu?.pool;
    return ps?.pool && !ps.pool.failed && this.cpu!.governor.quality === 'fast' && ps.rung === (this.cpu!.ladder?.rung ?? 0) && ps.chooser.engine === 'pool' ? ps.pool.bandCount : 1;
  }

  /** Test hook: maps each fast frame's wall time (ms) before the pool/one-thread chooser sees it. */
  engineTimingForTests: ((engine: RenderEngine, ms: number) => number) | null = null;

  /** Resolves once the CPU path's render pool for the current side is built or given up. */
  get poolReady(): Promise<void> {
    return this.cpu?.pool?.building ?? Promise.resolve();
  }

  /** Builds the pool for `rung` in the background (the current pool, if any, is closed); one thread renders meanwhile. */
  private buildPool(cpu: CpuPath, rung: number): void {
    const ps = cpu.pool;
    if (!ps || ps.problem !== null || ps.rung === rung) return;
    ps.pool?.destroy();
    ps.pool = null;
    ps.rung = rung;
    const gen = ++ps.gen;
    const factor = cpu.factors[rung];
    const avatar = factor > 1 ? downscaleAvatar(cpu.source, factor) : cpu.source;
    ps.chooser = new EngineChooser(ps.chooserOptions);
    ps.building = RenderPool.create(avatar, ps.threads, ps.host, { simd: cpu.simd, region: cpu.speechRegion, gen }).then(
      (pool) => {
        if (this.destroyed || ps.gen !== gen) pool.destroy();
        else ps.pool = pool;
      },
      (e: unknown) => {
        if (ps.gen === gen) ps.problem = e instanceof Error ? e.message : String(e);
      },
    );
  }

  /**
   * Test hook: maps each render's measured wall time (ms) before the governor sees it, so tests
   * can give exact and fast mode the times of a machine where either is the faster.
   */
  timingForTests: ((q: Quality, ms: number) => number) | null = null;

  private timed(q: Quality, ms: number): number {
    return this.timingForTests ? this.timingForTests(q, ms) : ms;
  }

  /** GPU memory the renderer holds (weights, frame buffers), bytes; 0 on the CPU path. */
  get gpuBytes(): number {
    return this.gpu?.bytesHeld ?? 0;
  }

  /** Test hook: destroys the GPU device as a driver reset would; the next render recovers. */
  loseDevice(): boolean {
    if (!this.gpu) return false;
    this.gpu.device.destroy();
    return true;
  }

  async render(input: RenderInput): Promise<RenderedFrame> {
    if (this.destroyed) throw new Error(`${this.name}: render after destroy`);
    const n = this.numbers;
    const frames = input.landmarks && input.landmarks.length === this.window * n ? input.landmarks : this.neutral;
    if (this.running && input.landmarks) this.running.update(frames.subarray(Math.floor(this.window / 2) * n, (Math.floor(this.window / 2) + 1) * n));
    for (let j = 0; j < this.window; j++) {
      normaliseClamp(frames.subarray(j * n, (j + 1) * n), this.stats, this.scratch);
      this.points.set(this.scratch, j * n);
    }
    const index = Math.max(0, Math.floor(input.poseIndex));
    const p = pingPongIndex(this.cpu?.speechRegion && this.cpu.governor.quality === 'fast' ? index - (index % CPU_POSE_HOLD) : index, this.poseCount);
    const pose = this.poses.slice(p * 16, p * 16 + 16);
    const eye = input.eye !== null && input.eye !== undefined ? Math.fround(input.eye * this.eyeScale) : this.eyes ? smoothEye(this.eyes, this.poseCount, p) : DEFAULT_EYE;
    const { width, height } = this.avatar.camera;
    if (this.gpu) {
      const wanted = this.gpuGovernor?.next() ?? 'exact';
      const q: Quality = wanted === 'fast' && this.gpuFast ? 'fast' : 'exact';
      // Each renderer keeps its own previous landmark code for the lip EMA and fast mode its
      // previous frame: after frames of the other mode both are stale.
      const switched = q !== this.lastQuality;
      if (switched && q === 'fast') this.gpuFast!.reset();
      const smoothing = this.first || switched ? 0 : this.avatar.config.condition.lipSmoothing;
      this.first = false;
      this.lastQuality = q;
      const t0 = performance.now();
      const frame = { pose, eye, windowPoints: this.points, smoothing };
      const r = q === 'fast' ? await this.gpuFast!.render(frame, ['rgba']) : await this.gpu.render(frame, ['rgba']);
      this.gpuGovernor?.record(q, this.timed(q, performance.now() - t0));
      if (!r.rgba) throw new Error('webgpu: no rgba readback');
      const data = new Uint8ClampedArray(r.rgba.buffer, r.rgba.byteOffset, width * height * 4) as Uint8ClampedArray<ArrayBuffer>;
      return { kind: 'rgba', width, height, data: data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : (data.slice() as Uint8ClampedArray<ArrayBuffer>) };
    }
    const cpu = this.cpu!;
    const { film1, film2 } = computeFilm(cpu.weights, cpu.conditioner.code(this.points));
    const q = cpu.governor.next();
    const rungIndex = cpu.ladder?.rung ?? 0;
    const rung = this.cpuRung(cpu, rungIndex);
    const ps = cpu.pool;
    if (ps && ps.rung !== rungIndex) this.buildPool(cpu, rungIndex);
    const poolUsable = q === 'fast' && ps?.pool && !ps.pool.failed && ps.rung === rungIndex ? ps.pool : null;
    const pool = poolUsable && ps!.chooser.next() === 'pool' ? poolUsable : null;
    const engine: RenderEngine = pool ? 'pool' : 'one';
    // Fast mode reuses its own previous frame; after exact frames, at another side, or after frames
    // of the other engine (the pool's bands, one thread), that frame is stale.
    if (q === 'fast' && (this.lastQuality !== 'fast' || this.lastRung !== rungIndex || this.lastEngine !== engine)) (pool ?? rung.fast).reset();
    this.lastQuality = q;
    this.lastRung = rungIndex;
    this.lastEngine = engine;
    const t0 = performance.now();
    let result: { image: Float32Array; width: number; height: number };
    if (pool) {
      try {
        result = await pool.render({ film1, film2, pose, eye });
      } catch (e) {
        // A render thread died: one thread from here on (the popup says why), this frame included.
        ps!.problem = e instanceof Error ? e.message : String(e);
        ps!.pool = null;
        pool.destroy();
        rung.fast.reset();
        this.lastEngine = 'one';
        result = rung.fast.render({ film1, film2, pose, eye });
      }
    } else result = q === 'fast' ? rung.fast.render({ film1, film2, pose, eye }) : rung.renderer.render({ film1, film2, pose, eye });
    const wall = performance.now() - t0;
    if (poolUsable && ps!.pool === poolUsable) ps!.chooser.record(engine, this.engineTimingForTests ? this.engineTimingForTests(engine, wall) : wall);
    const ms = this.timed(q, wall);
    cpu.governor.record(q, ms);
    // The ladder weighs fast frames only: exact mode's cost is the governor's to cut first, and
    // its probe frames say nothing about what the side costs in the mode that runs.
    if (q === 'fast') cpu.ladder?.record(ms);
    const data = toRgba8(result.image, result.width, result.height) as Uint8ClampedArray<ArrayBuffer>;
    return { kind: 'rgba', width: result.width, height: result.height, data };
  }

  private lastRung = 0;
  private lastEngine: 'pool' | 'one' = 'one';

  /** The speech region of the CPU path, from two renders at the smallest side and the first pose. */
  private findSpeechRegion(cpu: CpuPath): void {
    const rung = this.cpuRung(cpu, cpu.factors.length - 1);
    const { closed, open } = lipFilms(rung.fast.weights, this.stats);
    const pose = this.poses.slice(0, 16);
    const eye = this.eyes ? smoothEye(this.eyes, this.poseCount, 0) : DEFAULT_EYE;
    try {
      cpu.speechRegion = rung.fast.findSpeechRegion(closed, open, pose, eye);
    } catch {
      // Lips that change no pixel: every frame is rendered in full.
      cpu.speechRegion = null;
    }
    for (const r of cpu.rungs) r?.fast.setSpeechRegion(cpu.speechRegion);
  }

  /** The CPU path's renderers at ladder rung `i`, built on first use. */
  private cpuRung(cpu: CpuPath, i: number): CpuRung {
    const have = cpu.rungs[i];
    if (have) return have;
    const factor = cpu.factors[i];
    const avatar = downscaleAvatar(cpu.source, factor);
    const weights = loadModelWeights(avatar);
    if (cpu.simd) enableSimd(weights);
    const rung: CpuRung = { factor, camera: avatar.camera, renderer: new CpuRenderer(weights, avatar.camera), fast: new FastCpuRenderer(weights, avatar.camera) };
    rung.fast.setSpeechRegion(cpu.speechRegion);
    cpu.rungs[i] = rung;
    return rung;
  }

  /** The CPU path's render side now, [width, height] ([0, 0] on WebGPU). */
  get cpuSide(): [number, number] {
    if (!this.cpu) return [0, 0];
    const r = this.cpu.rungs[this.cpu.ladder?.rung ?? 0];
    const f = this.cpu.factors[this.cpu.ladder?.rung ?? 0];
    return r ? [r.camera.width, r.camera.height] : [this.cpu.source.camera.width / f, this.cpu.source.camera.height / f];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.cpu?.pool?.pool?.destroy();
    if (this.cpu?.pool) this.cpu.pool.pool = null;
    this.gpuFast?.destroy();
    this.gpuFast = null;
    this.gpu?.destroy();
    this.gpu = null;
  }
}

/** The render threads of the CPU path's fast frames for RendererChoice.cpuThreads on `host` (1 without a host). */
export function renderThreads(asked: number | undefined, host: PoolHost | null): number {
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 0 && asked <= MAX_THREADS)) throw new RangeError(`cpuThreads: expected an integer in [0, ${MAX_THREADS}], got ${asked}`);
  if (!host) return 1;
  if (asked) return asked;
  const cores = Number.isInteger(host.cores) && host.cores > 0 ? host.cores : 1;
  return Math.min(cores, DEFAULT_MAX_THREADS);
}
