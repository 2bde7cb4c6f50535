/**
 * GpuRenderer: the WebGPU path of the model (model-spec §3-§7b). Owns one set of passes built
 * from the avatar's config; after a device loss it acquires a new device, rebuilds everything
 * and renders again.
 */
import type { Avatar } from '../avatar/types.ts';
import { validateCamera, validateModelConfig } from '../avatar/config.ts';
import { ConfigError, GpuError, R2TalkerError } from '../errors.ts';
import { acquireGpu, reacquireGpu, type AcquireOptions, type GpuContext } from '../gpu/device.ts';
import { withGpuErrors } from '../gpu/scope.ts';
import { buildPasses, destroyPasses, LossWatch } from './pass-set.ts';
import { writeData, type CompileMode } from './gpu-util.ts';
import { ConditionPass } from './condition-pass.ts';
import { writeConditioning } from './frame-conditioning.ts';
import { CTRL_STEPS, FrameBuffers } from './frame-buffers.ts';
import { checkPose, cameraBlock } from './frame-data.ts';
import { HeadFieldPass, type KernelKind } from './head-field-pass.ts';
import { MAX_SAMPLES_PER_INVOCATION } from './mlp-codegen.ts';
import { OutputPass } from './output-pass.ts';
import { ComposePass } from './compose-pass.ts';
import { RayPass } from './ray-pass.ts';
import { TorsoPass } from './torso-pass.ts';
import { WavefrontPass } from './wavefront-pass.ts';
import type { WeightPrecision } from './weights-pack.ts';

export interface GpuFrameInput {
  pose: Float32Array;
  eye: number;
  /** Precomputed FiLM vectors (as the CPU reference's FrameInput carries). */
  film1?: Float32Array;
  film2?: Float32Array;
  /** Or a precomputed landmark code c (numLandmarks*window*levels*features). */
  code?: Float32Array;
  /** Or the landmark window points [window*numLandmarks*3] in model space. */
  windowPoints?: Float32Array;
  /** Lip EMA weight applied on the GPU to windowPoints codes (0 = none / first frame). */
  smoothing?: number;
}

export type ReadbackKind = 'image' | 'rgba' | 'stats' | 'trace' | 'code' | 'film';

export interface GpuRenderResult {
  width: number;
  height: number;
  texture: GPUTexture;
  /** H*W*3 in [0,1], when 'image' was requested. */
  image?: Float32Array;
  weightSum?: Float32Array;
  rgba?: Uint8Array;
  samplesPerRay?: Uint16Array;
  passes?: number[];
  totalSamples?: number;
  /** [numRays * traceCap] (x, y, z, dt) of the first samples of every ray, when 'trace' was requested. */
  trace?: Float32Array;
  code?: Float32Array;
  film?: Float32Array;
}

/**
 * A software adapter (SwiftShader) pays a per-lane gather for every weight read; sharing each
 * read among 8 points runs the fused MLPs ~4x faster there (bench/probe-block.ts, `npm run bench`).
 */
export const SOFTWARE_SAMPLES_PER_INVOCATION = 8;

export interface GpuRendererOptions extends AcquireOptions {
  /** 'auto' picks f16 where the adapter has shader-f16. */
  precision?: 'auto' | WeightPrecision;
  /** Record the first N samples of every ray (parity tests). */
  traceCap?: number;
  /**
   * Field kernels: 'fused' (default; generated vec4-block MLPs, compacted samples) or 'loop'
   * (scalar loops over every sample slot: the straightforward baseline the bench compares
   * against). Configs too wide to generate fall back to 'loop' on their own.
   */
  kernels?: KernelKind;
  /**
   * Pipeline compilation: 'async' (default; createComputePipelineAsync, all pipelines at once,
   * the worker thread stays free) or 'sync' (Node's `webgpu` package polls async work in a busy
   * loop, which doubles the CPU cost of the seconds-long SwiftShader compiles).
   */
  compile?: CompileMode;
  /**
   * Points each fused field invocation evaluates, sharing every weight read (1..16). Default:
   * 1 on a GPU, SOFTWARE_SAMPLES_PER_INVOCATION on a software (fallback) adapter.
   */
  samplesPerInvocation?: number;
  /**
   * How the fused path composites a wavefront pass (worker/render/wavefront-pass.ts): 'batch'
   * evaluates all marched samples of the pass then composites (as the CUDA reference does: few
   * dispatches), 'stepwise' one sample per live ray at a time (skips samples behind a ray's
   * termination: 3.4x fewer field evaluations on the bench avatar, ~8x more dispatches).
   * Default: 'batch' on a GPU, 'stepwise' on a software adapter. Both render the same pixels.
   * Configs with more than STEPWISE_MAX_SUBROUNDS sub-rounds a frame always batch.
   */
  compositing?: 'batch' | 'stepwise';
  /** Supplies the device; defaults to acquireGpu(options). Called again after a device loss. */
  acquire?: () => Promise<GpuContext>;
}

interface Passes {
  fb: FrameBuffers;
  condition: ConditionPass;
  rays: RayPass;
  field: HeadFieldPass;
  wavefront: WavefrontPass;
  torso: TorsoPass | null;
  output: OutputPass;
  /** Output composers by "WxH", made on first request. */
  composers: Map<string, ComposePass>;
}

export interface OutputRequest {
  /** Output size (even); defaults to the avatar's native size. */
  width?: number;
  height?: number;
  /** Buffers to copy back to the CPU (none: the GPU buffers/texture only). */
  readback?: ('rgba' | 'i420')[];
}

export interface OutputFrameResult {
  width: number;
  height: number;
  /** rgba8unorm, TEXTURE_BINDING | COPY_SRC. */
  texture: GPUTexture;
  /** RGBA8, width*height*4 bytes. */
  rgbaBuffer: GPUBuffer;
  /** I420 planes Y, U, V contiguous (i420.ts), padded to 4 bytes. */
  i420Buffer: GPUBuffer;
  i420Bytes: number;
  rgba?: Uint8Array;
  i420?: Uint8Array;
}

export class GpuRenderer {
  private ctx: GpuContext;
  private passes: Passes;
  private readonly loss = new LossWatch();
  private destroyed = false;
  /** How many times the device was recreated after a loss. */
  recoveries = 0;

  private constructor(readonly avatar: Avatar, private readonly options: GpuRendererOptions, ctx: GpuContext, passes: Passes) {
    this.ctx = ctx;
    this.passes = passes;
    this.loss.watch(ctx);
  }

  static async create(avatar: Avatar, options: GpuRendererOptions = {}): Promise<GpuRenderer> {
    validateModelConfig(avatar.config);
    validateCamera(avatar.camera);
    const ctx = await (options.acquire ?? (() => acquireGpu(options)))();
    const passes = await GpuRenderer.build(avatar, options, ctx);
    return new GpuRenderer(avatar, options, ctx, passes);
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  get context(): GpuContext {
    return this.ctx;
  }

  get precision(): WeightPrecision {
    return this.passes.fb.precision;
  }

  get bytesHeld(): number {
    const p = this.passes;
    return p.fb.bytesHeld + p.condition.bytesHeld + p.field.blockBytes + (p.torso?.blockBytes ?? 0);
  }

  /** The field kernels in use: [head, torso]. */
  get kernels(): [KernelKind, KernelKind | null] {
    return [this.passes.field.kind, this.passes.torso?.kind ?? null];
  }

  /** How the fused path composites ('batch' or 'stepwise'; the loop kernels always batch). */
  get compositing(): 'batch' | 'stepwise' {
    return this.passes.wavefront.stepwise ? 'stepwise' : 'batch';
  }

  /** Points per fused field invocation. */
  get samplesPerInvocation(): number {
    return this.passes.fb.samplesPerInvocation;
  }

  get numRays(): number {
    return this.passes.fb.numRays;
  }

  private static async build(avatar: Avatar, options: GpuRendererOptions, ctx: GpuContext): Promise<Passes> {
    const want = options.precision ?? 'auto';
    if (want === 'f16' && !ctx.caps.f16) throw GpuError.unavailable("precision 'f16' requested but the adapter has no 'shader-f16'");
    const precision: WeightPrecision = want === 'auto' ? (ctx.caps.f16 ? 'f16' : 'f32') : want;
    const device = ctx.device;
    return buildPasses<Passes>(device, `GpuRenderer(${avatar.name})`, async (made) => {
      // Every pass starts compiling its pipelines in its constructor; awaiting them together
      // lets the driver compile them concurrently instead of one after another.
      const samplesPerInvocation = options.samplesPerInvocation ?? (ctx.caps.fallback ? SOFTWARE_SAMPLES_PER_INVOCATION : 1);
      if (!Number.isInteger(samplesPerInvocation) || samplesPerInvocation < 1 || samplesPerInvocation > MAX_SAMPLES_PER_INVOCATION) throw new ConfigError(`samplesPerInvocation: expected an integer 1..${MAX_SAMPLES_PER_INVOCATION}, got ${samplesPerInvocation}`);
      made.fb = new FrameBuffers(device, avatar, precision, { traceCap: options.traceCap, compile: options.compile, samplesPerInvocation });
      made.composers = new Map();
      const fb = made.fb;
      made.field = new HeadFieldPass(device, fb, options.kernels ?? 'fused');
      made.condition = new ConditionPass(device, fb);
      made.rays = new RayPass(device, fb);
      const stepwise = (options.compositing ?? (ctx.caps.fallback ? 'stepwise' : 'batch')) === 'stepwise';
      made.wavefront = new WavefrontPass(device, fb, made.field, stepwise);
      made.torso = avatar.config.torso ? new TorsoPass(device, fb, options.kernels ?? 'fused') : null;
      made.output = new OutputPass(device, fb);
      const passes = made as Passes;
      await Promise.all([passes.field.ready, passes.condition.ready, passes.rays.ready, passes.wavefront.ready, passes.torso?.ready, passes.output.ready]);
      return passes;
    });
  }

  /**
   * The device to render on now: when the current one was lost, a new one first, with every
   * pass rebuilt. A fast renderer that borrows this renderer's device acquires through this,
   * so that it never rebuilds on the lost device while this renderer is idle.
   */
  async liveContext(): Promise<GpuContext> {
    if (await this.loss.check()) await this.recover();
    return this.ctx;
  }

  private async recover(): Promise<void> {
    destroyPasses(this.passes);
    const ctx = await reacquireGpu(this.options);
    this.ctx = ctx;
    this.loss.watch(ctx);
    this.passes = await GpuRenderer.build(this.avatar, this.options, ctx);
    this.recoveries++;
  }

  /** Writes the frame's inputs and encodes the whole frame; returns the encoder's command buffer. */
  /**
   * Records one frame. `lastStage` (0 condition, 1 rays, 2 march+field, 3 torso, 4 output)
   * stops after that stage: the bench times stage prefixes where timestamps are missing.
   */
  encodeFrame(frame: GpuFrameInput, timestamps?: { querySet: GPUQuerySet; base: number }, lastStage = 4): GPUCommandBuffer {
    const p = this.passes;
    const cfg = this.avatar.config;
    const q = this.ctx.device.queue;
    checkPose(frame.pose);
    if (!Number.isFinite(frame.eye)) throw new ConfigError(`frame.eye: expected a finite number, got ${frame.eye}`);
    const mode = writeConditioning(q, p.fb, p.condition, frame);
    writeData(q, p.rays.camera, cameraBlock(frame.pose, this.avatar.camera, cfg));
    p.field.setEye(frame.eye);
    p.wavefront.prepare(frame.pose);
    p.torso?.prepare(frame.pose);
    const ts = (i: number): GPUComputePassTimestampWrites | undefined =>
      timestamps ? { querySet: timestamps.querySet, beginningOfPassWriteIndex: timestamps.base + 2 * i, endOfPassWriteIndex: timestamps.base + 2 * i + 1 } : undefined;
    const encoder = this.ctx.device.createCommandEncoder({ label: 'r2t.frame' });
    p.condition.run(encoder, mode, ts(0));
    if (lastStage >= 1) p.rays.run(encoder, ts(1));
    if (lastStage >= 2) p.wavefront.run(encoder, ts(2));
    if (lastStage >= 3) p.torso?.run(encoder, ts(3));
    if (lastStage >= 4) p.output.run(encoder, ts(4));
    return encoder.finish();
  }

  /** Renders one frame; reads back what `readback` names (nothing: waits for the GPU only). */
  async render(frame: GpuFrameInput, readback: ReadbackKind[] = ['image', 'rgba', 'stats']): Promise<GpuRenderResult> {
    if (this.destroyed) throw new R2TalkerError('INTERNAL', 'GpuRenderer.render: the renderer was destroyed');
    if (this.loss.lost) await this.recover();
    try {
      return await this.renderOnce(frame, readback);
    } catch (e) {
      if (!(await this.loss.check())) throw e;
      await this.recover();
      return this.renderOnce(frame, readback);
    }
  }

  private async renderOnce(frame: GpuFrameInput, readback: ReadbackKind[]): Promise<GpuRenderResult> {
    const p = this.passes;
    const device = this.ctx.device;
    const { width, height } = this.avatar.camera;
    const N = p.fb.numRays;
    const cmd = this.encodeFrame(frame, undefined);
    const copies: [GPUBuffer, number][] = [];
    const want = new Set(readback);
    const sources: Partial<Record<ReadbackKind, GPUBuffer>> = {
      image: p.fb.image,
      rgba: p.fb.rgba8,
      trace: p.fb.trace,
      code: p.fb.code,
      film: p.fb.film,
    };
    const staged = new Map<string, GPUBuffer>();
    const encoder = device.createCommandEncoder({ label: 'r2t.readback' });
    const stage = (key: string, src: GPUBuffer) => {
      const dst = device.createBuffer({ label: `r2t.readback.${key}`, size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(src, 0, dst, 0, src.size);
      staged.set(key, dst);
      copies.push([dst, src.size]);
    };
    for (const k of want) if (sources[k]) stage(k, sources[k]!);
    if (want.has('stats')) {
      stage('rays', p.fb.rays);
      stage('ctrl', p.fb.ctrl);
    }
    device.queue.submit([cmd, encoder.finish()]);
    const out: GpuRenderResult = { width, height, texture: p.fb.texture };
    try {
      await Promise.all([...staged.values()].map((b) => b.mapAsync(GPUMapMode.READ)));
      const read = (k: string) => staged.get(k)!.getMappedRange().slice(0);
      if (staged.has('image')) {
        const img = new Float32Array(read('image'));
        out.image = new Float32Array(N * 3);
        out.weightSum = new Float32Array(N);
        for (let i = 0; i < N; i++) {
          out.image[i * 3] = img[i * 4];
          out.image[i * 3 + 1] = img[i * 4 + 1];
          out.image[i * 3 + 2] = img[i * 4 + 2];
          out.weightSum[i] = img[i * 4 + 3];
        }
      }
      if (staged.has('rgba')) out.rgba = new Uint8Array(read('rgba')).slice(0, N * 4);
      if (staged.has('trace')) out.trace = new Float32Array(read('trace')).slice(0, N * p.fb.traceCap * 4);
      if (staged.has('code')) out.code = new Float32Array(read('code')).slice(0, p.fb.consts.COND_IN as number);
      if (staged.has('film')) out.film = new Float32Array(read('film')).slice(0, 4 * this.avatar.config.head.hiddenDim);
      if (staged.has('rays')) {
        const u = new Uint32Array(read('rays'));
        out.samplesPerRay = new Uint16Array(N);
        for (let i = 0; i < N; i++) out.samplesPerRay[i] = Math.min(u[i * 12 + 10], 0xffff);
        const c = new Uint32Array(read('ctrl'));
        out.totalSamples = c[7];
        out.passes = [];
        for (let i = 0; i < p.fb.maxPasses && c[CTRL_STEPS + i] > 0; i++) out.passes.push(c[CTRL_STEPS + i]);
      }
    } finally {
      for (const b of staged.values()) b.destroy();
    }
    return out;
  }

  /**
   * Renders a frame and composes it at the requested size (native by default) into a texture,
   * an RGBA8 buffer and an I420 buffer, all on the GPU; copies back only what `readback` names.
   */
  async renderOutput(frame: GpuFrameInput, req: OutputRequest = {}): Promise<OutputFrameResult> {
    if (this.destroyed) throw new R2TalkerError('INTERNAL', 'GpuRenderer.renderOutput: the renderer was destroyed');
    if (this.loss.lost) await this.recover();
    const width = req.width ?? this.avatar.camera.width;
    const height = req.height ?? this.avatar.camera.height;
    const key = `${width}x${height}`;
    let c = this.passes.composers.get(key);
    if (!c) {
      const made = await withGpuErrors(this.device, `output ${key}`, async () => {
        const pass = new ComposePass(this.device, this.passes.fb, { width, height });
        await pass.ready.catch((e: unknown) => {
          pass.destroy();
          throw e;
        });
        return pass;
      });
      this.passes.composers.set(key, made);
      c = made;
    }
    const want = new Set(req.readback ?? []);
    const device = this.device;
    const enc = device.createCommandEncoder({ label: 'r2t.output' });
    c.run(enc, true);
    const staged: [string, GPUBuffer, number][] = [];
    const stage = (k: string, src: GPUBuffer, bytes: number) => {
      const dst = device.createBuffer({ label: `r2t.readback.${k}`, size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.copyBufferToBuffer(src, 0, dst, 0, src.size);
      staged.push([k, dst, bytes]);
    };
    if (want.has('rgba')) stage('rgba', c.rgba, width * height * 4);
    if (want.has('i420')) stage('i420', c.i420, c.i420Bytes);
    device.queue.submit([this.encodeFrame(frame), enc.finish()]);
    const out: OutputFrameResult = { width, height, texture: c.texture, rgbaBuffer: c.rgba, i420Buffer: c.i420, i420Bytes: c.i420Bytes };
    try {
      await Promise.all(staged.map(([, b]) => b.mapAsync(GPUMapMode.READ)));
      for (const [k, b, bytes] of staged) {
        const data = new Uint8Array(b.getMappedRange().slice(0, bytes));
        if (k === 'rgba') out.rgba = data;
        else out.i420 = data;
      }
    } finally {
      for (const [, b] of staged) b.destroy();
    }
    if (staged.length === 0) await device.queue.onSubmittedWorkDone();
    return out;
  }

  /** Submits a frame without reading anything back and waits for the GPU (benchmarks). */
  async renderNoReadback(frame: GpuFrameInput, timestamps?: { querySet: GPUQuerySet; base: number }): Promise<void> {
    if (this.loss.lost) await this.recover();
    this.ctx.device.queue.submit([this.encodeFrame(frame, timestamps)]);
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  /** Idempotent; also destroys the device this renderer acquired. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    destroyPasses(this.passes);
    if (!this.options.acquire) this.ctx.device.destroy();
  }
}
