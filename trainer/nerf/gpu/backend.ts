/**
 * The WebGPU TrainerBackend. On the GPU, with their parameters, gradients and Adam moments
 * resident there: the per-frame conditioning (ConditionNetGpu), the head field over every
 * sample (HeadNetGpu), ray marching (GpuTrainMarch), compositing (GpuCompositor), the torso
 * net (TorsoNetGpu), all their backward passes, and Adam over every group (GpuAdam: one over
 * the head and conditioning groups, one over the torso's, each with its own flat buffers so a
 * stage's kernels bind only its own groups). A head step uploads its rays and reads back one
 * colour, weight sum and sample count per ray; a torso step uploads its pixel coordinates and
 * reads back one (alpha, rgb) per pixel.
 *
 * Still on the CPU: the occupancy refresh's bookkeeping (occupancy-refresh.ts); the densities
 * of the probed cells come from the GPU head field, so only one float per probed cell is read
 * back.
 *
 * A step with more rays than the device's buffer limits allow for one batch runs in ray
 * sub-batches with the forward recomputed in the backward (batch-split.ts); the torso stage
 * splits its pixels the same way.
 */
import type { ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError, GpuError } from '../../../worker/errors.ts';
import { acquireGpu, type GpuContext } from '../../../worker/gpu/device.ts';
import { makeBuffer, STORAGE, writeData } from '../../../worker/render/gpu-util.ts';
import type {
  AdamMoments,
  AdamStep,
  BackendInit,
  HeadForwardInput,
  HeadForwardResult,
  OccupancyState,
  OccupancyStats,
  OccupancyUpdate,
  ParamSet,
  TorsoForwardInput,
  TorsoForwardResult,
  TrainerBackend,
  TrainRays,
} from '../backend.ts';
import { GpuAdam } from './adam.ts';
import { GpuCompositor } from './composite.ts';
import { batchRayLimit, GradAccumulator, rayChunks } from './batch-split.ts';
import { ConditionNetGpu } from './condition-net.ts';
import { HeadNetGpu } from './head-net.ts';
import { GpuTrainMarch } from './train-march.ts';
import { applyDensityProbes } from './occupancy-refresh.ts';
import { ParamLayout } from './param-layout.ts';
import { readBuffer, readF32 } from './readback.ts';
import { TorsoNetGpu, torsoBytesPerRay } from './torso-net.ts';

/** Batch buffers sized for `rays` rays of up to maxSteps samples each. */
interface Batch {
  rays: number;
  capacity: number;
  march: GpuTrainMarch;
  head: HeadNetGpu;
  cond: ConditionNetGpu;
  comp: GpuCompositor;
  buffers: Record<'samples' | 'field' | 'dField' | 'dts' | 'spans' | 'rayOut' | 'used' | 'dRay', GPUBuffer>;
}

/** The torso stage's GPU state: its own flat parameter, gradient and moment buffers. */
interface TorsoState {
  layout: ParamLayout;
  params: GPUBuffer;
  grads: GPUBuffer;
  adam: GpuAdam;
  /** pixels per sub-batch */
  rayLimit: number;
  batch: { rays: number; net: TorsoNetGpu; coords: GPUBuffer; rayOut: GPUBuffer; dRay: GPUBuffer } | null;
  accumulator: GradAccumulator | null;
  kept: { input: TorsoForwardInput; resident: boolean } | null;
}

interface Kept {
  rays: TrainRays;
  condition: HeadForwardInput['condition'];
  activeLevels: HeadForwardInput['activeLevels'];
  /** the batch still holds this step's activations (one sub-batch); else the backward recomputes them */
  resident: boolean;
}

export interface WebGpuTrainerOptions {
  /** rays per sub-batch; default: the most the device's buffer limits allow (batch-split.ts) */
  maxRaysPerBatch?: number;
}

/** Rays [first, first + count) of a batch. */
function sliceRays(r: TrainRays, first: number, count: number): TrainRays {
  if (first === 0 && count === r.count) return r;
  const end = first + count;
  return {
    count,
    origins: r.origins.subarray(3 * first, 3 * end),
    directions: r.directions.subarray(3 * first, 3 * end),
    nears: r.nears.subarray(first, end),
    fars: r.fars.subarray(first, end),
    jitter: r.jitter.subarray(first, end),
  };
}

export class WebGpuTrainerBackend implements TrainerBackend {
  readonly name = 'webgpu' as const;
  private config!: ModelConfig;
  private layout!: ParamLayout;
  private params!: GPUBuffer;
  private grads!: GPUBuffer;
  private adamGpu!: GpuAdam;
  private batch: Batch | null = null;
  /** Occupancy state (head): running density per cell (Morton order, -1 = unseen) and bitfield. */
  private density!: Float32Array;
  private bitfield!: Uint8Array;
  /** The GPU copy of the bitfield needs an upload before the next march. */
  private bitfieldDirty = true;
  private kept: Kept | null = null;
  private disposed = false;
  /** rays per sub-batch (batch-split.ts), set by init() */
  private rayLimit = 1;
  private accumulator: GradAccumulator | null = null;
  private torso: TorsoState | null = null;

  /** ownsDevice: dispose() also destroys the device (createWebGpuTrainerBackend acquired it). */
  constructor(
    private readonly gpu: GpuContext,
    private readonly ownsDevice = false,
    private readonly options: WebGpuTrainerOptions = {},
  ) {
    const m = options.maxRaysPerBatch;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) throw new ConfigError(`WebGpuTrainerBackend.maxRaysPerBatch: expected a positive integer, got ${m}`);
  }

  /** Rays one sub-batch holds: the device's limit, or the option when it is smaller. */
  get raysPerBatch(): number {
    return this.rayLimit;
  }

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  async init(init: BackendInit): Promise<void> {
    if (this.layout) throw new ConfigError('backend.init: called twice');
    for (const g of init.groups) {
      const p = init.params.get(g.name);
      if (!(p instanceof Float32Array) || p.length !== g.length) throw new ConfigError(`backend.init: group ${g.name} expects ${g.length} float32 values, got ${p?.length}`);
    }
    this.config = init.config;
    const headGroups = init.groups.filter((g) => g.stage === 'head');
    const torsoGroups = init.groups.filter((g) => g.stage === 'torso');
    if (torsoGroups.length > 0 && !this.config.torso) throw new ConfigError('backend.init: torso groups given for a model config without a torso');
    const upload = (layout: ParamLayout, name: string) => {
      const packed = layout.pack(new Map(layout.slots.map((s) => [s.name, init.params.get(s.name)!])));
      return { params: makeBuffer(this.device, `r2t.train.${name}.params`, 4 * layout.total, STORAGE(), packed), grads: makeBuffer(this.device, `r2t.train.${name}.grads`, 4 * layout.total, STORAGE()) };
    };
    this.layout = new ParamLayout(headGroups);
    ({ params: this.params, grads: this.grads } = upload(this.layout, 'head'));
    this.adamGpu = await GpuAdam.create(this.device, this.layout, { params: this.params, grads: this.grads }, 'sync');
    const deviceLimit = batchRayLimit(this.config, this.device.limits);
    this.rayLimit = Math.min(deviceLimit, this.options.maxRaysPerBatch ?? deviceLimit);
    if (torsoGroups.length > 0) {
      const layout = new ParamLayout(torsoGroups);
      const { params, grads } = upload(layout, 'torso');
      const adam = await GpuAdam.create(this.device, layout, { params, grads }, 'sync');
      const cap = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize) - (1 << 20);
      const torsoLimit = Math.floor(cap / torsoBytesPerRay(this.config));
      if (torsoLimit < 1) throw new ConfigError(`WebGPU limits: one torso pixel needs ${torsoBytesPerRay(this.config)} bytes of activations, the device allows ${cap}`);
      this.torso = { layout, params, grads, adam, rayLimit: Math.min(torsoLimit, this.options.maxRaysPerBatch ?? torsoLimit), batch: null, accumulator: null, kept: null };
    }
    // Until the first refresh every cell counts as occupied, so the first rays see the whole box.
    const R = this.config.march.gridResolution;
    this.density = new Float32Array(R * R * R);
    this.bitfield = new Uint8Array((R * R * R) / 8).fill(0xff);
  }

  private live(): void {
    if (this.disposed) throw new ConfigError('backend: used after dispose()');
    if (!this.layout) throw new ConfigError('backend: init() must come first');
  }

  /** (Re)allocates the batch buffers when a step brings more rays than they hold. */
  private async ensureBatch(rays: number): Promise<Batch> {
    if (this.batch && this.batch.rays >= rays) return this.batch;
    this.destroyBatch();
    const capacity = Math.max(1, rays * this.config.march.maxSteps);
    const S = STORAGE();
    const mk = (name: string, bytes: number) => makeBuffer(this.device, `r2t.train.${name}`, bytes, S);
    const buffers = {
      samples: mk('samples', 32 * capacity),
      field: mk('field', 16 * capacity),
      dField: mk('dField', 16 * capacity),
      dts: mk('dts', 4 * capacity),
      spans: mk('spans', 8 * rays),
      rayOut: mk('rayOut', 16 * rays),
      used: mk('used', 4 * rays),
      dRay: mk('dRay', 16 * rays),
    };
    const parts: { destroy(): void }[] = [];
    try {
      const march = await GpuTrainMarch.create(this.device, this.config, rays, capacity, { samples: buffers.samples, dts: buffers.dts, spans: buffers.spans }, 'sync');
      parts.push(march);
      this.bitfieldDirty = true;
      const head = await HeadNetGpu.create(this.device, this.config, this.layout, capacity, { params: this.params, grads: this.grads, samples: buffers.samples, field: buffers.field, dField: buffers.dField }, 'sync');
      parts.push(head);
      const cond = await ConditionNetGpu.create(this.device, this.config, this.layout, { params: this.params, grads: this.grads, film: head.filmSlice(), dFilm: head.dFilmSlice() }, 'sync');
      parts.push(cond);
      const comp = await GpuCompositor.create(this.device, { maxRays: rays, maxSamples: capacity, tThreshold: this.config.march.tThreshold, compile: 'sync' }, { rays: buffers.spans, field: buffers.field, dts: buffers.dts, rayOut: buffers.rayOut, used: buffers.used, dRay: buffers.dRay, dField: buffers.dField });
      this.batch = { rays, capacity, march, head, cond, comp, buffers };
      return this.batch;
    } catch (e) {
      for (const p of parts) p.destroy();
      for (const b of Object.values(buffers)) b.destroy();
      throw e;
    }
  }

  private destroyBatch(): void {
    const b = this.batch;
    if (!b) return;
    b.march.destroy();
    b.head.destroy();
    b.cond.destroy();
    b.comp.destroy();
    for (const x of Object.values(b.buffers)) x.destroy();
    this.batch = null;
  }

  async headForward(input: HeadForwardInput, keep: boolean): Promise<HeadForwardResult> {
    this.live();
    const { rays, condition, activeLevels } = input;
    const N = rays.count;
    if (!Number.isInteger(N) || N < 1) throw new ConfigError(`headForward.rays.count: expected a positive integer, got ${N}`);
    for (const k of ['origins', 'directions'] as const) if (rays[k].length !== 3 * N) throw new ConfigError(`headForward.rays.${k}: expected ${3 * N} values, got ${rays[k].length}`);
    for (const k of ['nears', 'fars', 'jitter'] as const) if (rays[k].length !== N) throw new ConfigError(`headForward.rays.${k}: expected ${N} values, got ${rays[k].length}`);
    const chunks = rayChunks(N, this.rayLimit);
    const batch = await this.ensureBatch(chunks[0].count);
    const rgb = new Float32Array(3 * N);
    const weightSum = new Float32Array(N);
    let samples = 0;
    for (const { first, count } of chunks) {
      this.submitForward(batch, sliceRays(rays, first, count), condition, activeLevels);
      const out = await readF32(this.device, batch.buffers.rayOut, 4 * count);
      for (let r = 0; r < count; r++) {
        rgb.set(out.subarray(4 * r, 4 * r + 3), 3 * (first + r));
        weightSum[first + r] = out[4 * r + 3];
      }
      const spans = new Uint32Array(await readBuffer(this.device, batch.buffers.spans, 8 * count));
      for (let r = 0; r < count; r++) samples += spans[2 * r + 1];
    }
    this.kept = keep ? { rays, condition, activeLevels, resident: chunks.length === 1 } : null;
    return { rgb, weightSum, samples };
  }

  /** Marches `rays` (at most one sub-batch) and runs conditioning, field and compositing forward. */
  private submitForward(batch: Batch, rays: TrainRays, condition: HeadForwardInput['condition'], activeLevels: HeadForwardInput['activeLevels']): void {
    batch.cond.setFrame(condition.points, activeLevels.condition);
    batch.march.setRays(rays);
    if (this.bitfieldDirty) {
      batch.march.setBitfield(this.bitfield);
      this.bitfieldDirty = false;
    }
    // Every ray owns maxSteps sample slots; the unused ones are inert (see train-march.wgsl).
    batch.head.setBatch(rays.count * this.config.march.maxSteps, condition.eye, activeLevels.head);
    batch.comp.setRays(rays.count);
    const enc = this.device.createCommandEncoder({ label: 'r2t.train.headForward' });
    batch.march.encode(enc);
    batch.cond.encodeForward(enc);
    batch.head.encodeForward(enc);
    batch.comp.encodeForward(enc);
    this.device.queue.submit([enc.finish()]);
  }

  async headBackward(dRgb: Float32Array, dWeightSum: Float32Array): Promise<void> {
    this.live();
    const k = this.kept;
    const batch = this.batch;
    if (!k || !batch) throw new ConfigError('headBackward: no kept forward (call headForward with keep = true first)');
    const N = k.rays.count;
    if (dRgb.length !== N * 3 || dWeightSum.length !== N) throw new ConfigError(`headBackward: expected ${N * 3} and ${N} gradient values, got ${dRgb.length} and ${dWeightSum.length}`);
    const chunks = rayChunks(N, this.rayLimit);
    if (chunks.length > 1 && !this.accumulator) this.accumulator = await GradAccumulator.create(this.device, this.grads, this.layout.total);
    for (let c = 0; c < chunks.length; c++) {
      const { first, count } = chunks[c];
      // Sub-batches after the forward's last one lost their activations: recompute them.
      if (!k.resident) this.submitForward(batch, sliceRays(k.rays, first, count), k.condition, k.activeLevels);
      const dRay = new Float32Array(4 * count);
      for (let r = 0; r < count; r++) {
        dRay.set(dRgb.subarray(3 * (first + r), 3 * (first + r) + 3), 4 * r);
        dRay[4 * r + 3] = dWeightSum[first + r];
      }
      writeData(this.device.queue, batch.buffers.dRay, dRay);
      const enc = this.device.createCommandEncoder({ label: 'r2t.train.headBackward' });
      // The compositor writes the gradients of marched samples only: the unused slots get zeros.
      enc.clearBuffer(batch.buffers.dField);
      batch.comp.encodeBackward(enc);
      batch.head.encodeBackward(enc);
      batch.cond.encodeBackward(enc);
      if (chunks.length > 1) {
        this.accumulator!.add(enc, c === 0);
        if (c === chunks.length - 1) this.accumulator!.copyBack(enc);
      }
      this.device.queue.submit([enc.finish()]);
    }
    this.kept = null;
  }

  private torsoState(what: string): TorsoState {
    this.live();
    if (!this.torso) throw new ConfigError(`${what}: the model config has no torso`);
    return this.torso;
  }

  /** (Re)allocates the torso batch buffers when a step brings more pixels than they hold. */
  private async ensureTorsoBatch(t: TorsoState, rays: number): Promise<NonNullable<TorsoState['batch']>> {
    if (t.batch && t.batch.rays >= rays) return t.batch;
    this.destroyTorsoBatch();
    const S = STORAGE();
    const coords = makeBuffer(this.device, 'r2t.train.torso.coords', 8 * rays, S);
    const rayOut = makeBuffer(this.device, 'r2t.train.torso.rayOut', 16 * rays, S);
    const dRay = makeBuffer(this.device, 'r2t.train.torso.dRay', 16 * rays, S);
    try {
      const net = await TorsoNetGpu.create(this.device, this.config, t.layout, rays, { params: t.params, grads: t.grads, coords, rayOut, dRay }, 'sync');
      t.batch = { rays, net, coords, rayOut, dRay };
      return t.batch;
    } catch (e) {
      for (const b of [coords, rayOut, dRay]) b.destroy();
      throw e;
    }
  }

  private destroyTorsoBatch(): void {
    const b = this.torso?.batch;
    if (!b) return;
    b.net.destroy();
    for (const x of [b.coords, b.rayOut, b.dRay]) x.destroy();
    this.torso!.batch = null;
  }

  /** Uploads pixels [first, first + count) of `input` and records the torso forward over them. */
  private submitTorsoForward(batch: NonNullable<TorsoState['batch']>, input: TorsoForwardInput, first: number, count: number): void {
    writeData(this.device.queue, batch.coords, input.coords.subarray(2 * first, 2 * (first + count)));
    batch.net.setFrame(count, input.pose, input.activeLevels.torso);
    const enc = this.device.createCommandEncoder({ label: 'r2t.train.torsoForward' });
    batch.net.encodeForward(enc);
    this.device.queue.submit([enc.finish()]);
  }

  async torsoForward(input: TorsoForwardInput, keep: boolean): Promise<TorsoForwardResult> {
    const t = this.torsoState('torsoForward');
    const N = input.coords.length / 2;
    if (!Number.isInteger(N) || N < 1) throw new ConfigError(`torsoForward.coords: expected 2 values per pixel and at least one pixel, got ${input.coords.length} values`);
    if (input.pose.length !== 16) throw new ConfigError(`torsoForward.pose: expected 16 values, got ${input.pose.length}`);
    const chunks = rayChunks(N, t.rayLimit);
    const batch = await this.ensureTorsoBatch(t, chunks[0].count);
    const colors = new Float32Array(3 * N);
    const alpha = new Float32Array(N);
    for (const { first, count } of chunks) {
      this.submitTorsoForward(batch, input, first, count);
      const out = await readF32(this.device, batch.rayOut, 4 * count);
      for (let r = 0; r < count; r++) {
        alpha[first + r] = out[4 * r];
        colors.set(out.subarray(4 * r + 1, 4 * r + 4), 3 * (first + r));
      }
    }
    t.kept = keep ? { input, resident: chunks.length === 1 } : null;
    return { colors, alpha };
  }

  async torsoBackward(dColor: Float32Array, dAlpha: Float32Array): Promise<void> {
    const t = this.torsoState('torsoBackward');
    const k = t.kept;
    const batch = t.batch;
    if (!k || !batch) throw new ConfigError('torsoBackward: no kept torso forward (call torsoForward with keep = true first)');
    const N = k.input.coords.length / 2;
    if (dColor.length !== N * 3 || dAlpha.length !== N) throw new ConfigError(`torsoBackward: expected ${N * 3} and ${N} gradient values, got ${dColor.length} and ${dAlpha.length}`);
    const chunks = rayChunks(N, t.rayLimit);
    if (chunks.length > 1 && !t.accumulator) t.accumulator = await GradAccumulator.create(this.device, t.grads, t.layout.total);
    for (let c = 0; c < chunks.length; c++) {
      const { first, count } = chunks[c];
      // Sub-batches after the forward's last one lost their activations: recompute them.
      if (!k.resident) this.submitTorsoForward(batch, k.input, first, count);
      const dRay = new Float32Array(4 * count);
      for (let r = 0; r < count; r++) {
        dRay[4 * r] = dAlpha[first + r];
        dRay.set(dColor.subarray(3 * (first + r), 3 * (first + r) + 3), 4 * r + 1);
      }
      writeData(this.device.queue, batch.dRay, dRay);
      const enc = this.device.createCommandEncoder({ label: 'r2t.train.torsoBackward' });
      batch.net.encodeBackward(enc);
      if (chunks.length > 1) {
        t.accumulator!.add(enc, c === 0);
        if (c === chunks.length - 1) t.accumulator!.copyBack(enc);
      }
      this.device.queue.submit([enc.finish()]);
    }
    t.kept = null;
  }

  /** Head/conditioning and torso parts of a per-group map; a name neither holds is an error. */
  private split<T>(what: string, values: Iterable<[string, T]>): { head: Map<string, T>; torso: Map<string, T> } {
    const head = new Map<string, T>();
    const torso = new Map<string, T>();
    for (const [name, v] of values) {
      if (this.layout.has(name)) head.set(name, v);
      else if (this.torso?.layout.has(name)) torso.set(name, v);
      else throw new ConfigError(`${what}: unknown group ${name}`);
    }
    return { head, torso };
  }

  async adam(step: AdamStep): Promise<void> {
    this.live();
    const { head, torso } = this.split('adam', step.lr);
    const enc = this.device.createCommandEncoder({ label: 'r2t.train.adam' });
    if (head.size > 0) this.adamGpu.encode(enc, { ...step, lr: head });
    if (torso.size > 0) this.torso!.adam.encode(enc, { ...step, lr: torso });
    this.device.queue.submit([enc.finish()]);
  }

  /** Every group of the flat buffer `pick` chooses (parameters or gradients), head then torso. */
  private async gpuGroups(pick: (s: { params: GPUBuffer; grads: GPUBuffer }) => GPUBuffer): Promise<ParamSet> {
    const out = this.layout.unpack(await readF32(this.device, pick({ params: this.params, grads: this.grads }), this.layout.total));
    const t = this.torso;
    if (t) for (const [k, v] of t.layout.unpack(await readF32(this.device, pick(t), t.layout.total))) out.set(k, v);
    return out;
  }

  /**
   * The density of every probed cell from the GPU head field (the frame's conditioning, view
   * direction +z as the CPU backend), in chunks of the batch capacity; the bookkeeping then runs
   * on the CPU copy the marching reads (applyDensityProbes).
   */
  async updateOccupancy(update: OccupancyUpdate): Promise<OccupancyStats> {
    this.live();
    const n = update.cells.length;
    if (update.points.length !== n * 3) throw new ConfigError(`updateOccupancy.points: expected ${n * 3} values, got ${update.points.length}`);
    const batch = this.batch ?? (await this.ensureBatch(Math.max(1, Math.min(this.rayLimit, Math.ceil(Math.min(n, 1 << 16) / this.config.march.maxSteps)))));
    const q = this.device.queue;
    batch.cond.setFrame(update.condition.points, update.activeLevels.condition);
    let enc = this.device.createCommandEncoder({ label: 'r2t.train.occupancy.condition' });
    batch.cond.encodeForward(enc);
    q.submit([enc.finish()]);
    const sigmas = new Float32Array(n);
    const cap = batch.capacity;
    const chunk = new Float32Array(8 * cap);
    for (let i = 4 * cap + 2; i < 8 * cap; i += 4) chunk[i] = 1;
    for (let first = 0; first < n; first += cap) {
      const m = Math.min(cap, n - first);
      for (let i = 0; i < m; i++) chunk.set(update.points.subarray(3 * (first + i), 3 * (first + i) + 3), 4 * i);
      writeData(q, batch.buffers.samples, chunk);
      batch.head.setBatch(m, update.condition.eye, update.activeLevels.head);
      enc = this.device.createCommandEncoder({ label: 'r2t.train.occupancy.field' });
      batch.head.encodeForward(enc);
      q.submit([enc.finish()]);
      const field = await readF32(this.device, batch.buffers.field, 4 * m);
      for (let i = 0; i < m; i++) sigmas[first + i] = field[4 * i + 3];
    }
    // The forward's kept activations now belong to the probe, not to a training batch.
    this.kept = null;
    const stats = applyDensityProbes(this.density, this.bitfield, update.cells, sigmas, update.decay, update.thresholdCap);
    this.bitfieldDirty = true;
    return stats;
  }

  async readParams(): Promise<ParamSet> {
    this.live();
    return this.gpuGroups((s) => s.params);
  }

  async writeParams(params: ParamSet): Promise<void> {
    this.live();
    const { head, torso } = this.split('writeParams', params);
    for (const [part, layout, buffer] of [[head, this.layout, this.params], [torso, this.torso?.layout, this.torso?.params]] as const) {
      for (const [name, v] of part) {
        const s = layout!.get(name);
        if (!(v instanceof Float32Array) || v.length !== s.length) throw new ConfigError(`writeParams: group ${name} expects ${s.length} values, got ${v.length}`);
        writeData(this.device.queue, buffer!, v, 4 * s.offset);
      }
    }
    await this.device.queue.onSubmittedWorkDone();
  }

  async readGrads(): Promise<ParamSet> {
    this.live();
    return this.gpuGroups((s) => s.grads);
  }

  async readMoments(): Promise<Map<string, AdamMoments>> {
    this.live();
    const out = await this.adamGpu.readMoments();
    if (this.torso) for (const [k, v] of await this.torso.adam.readMoments()) out.set(k, v);
    return out;
  }

  async writeMoments(moments: Map<string, AdamMoments>): Promise<void> {
    this.live();
    const { head, torso } = this.split('writeMoments', moments);
    await this.adamGpu.writeMoments(head);
    if (torso.size > 0) await this.torso!.adam.writeMoments(torso);
  }

  async readOccupancy(): Promise<OccupancyState> {
    this.live();
    return { density: this.density.slice(), bitfield: this.bitfield.slice() };
  }

  async writeOccupancy(state: OccupancyState): Promise<void> {
    this.live();
    if (state.density.length !== this.density.length || state.bitfield.length !== this.bitfield.length) throw new ConfigError('writeOccupancy: state does not match the occupancy grid size');
    this.density.set(state.density);
    this.bitfield.set(state.bitfield);
    this.bitfieldDirty = true;
  }

  /** GPU memory this backend holds: parameters, gradients, Adam moments, batch activations (head and torso). */
  get bytesHeld(): number {
    if (!this.layout) return 0;
    const b = this.batch;
    const batch = b ? b.head.bytesHeld + b.cond.bytesHeld + Object.values(b.buffers).reduce((t, x) => t + x.size, 0) : 0;
    const t = this.torso;
    const tb = t?.batch;
    const torso = t ? t.params.size + t.grads.size + t.adam.bytesHeld + (t.accumulator?.bytesHeld ?? 0) + (tb ? tb.net.bytesHeld + tb.coords.size + tb.rayOut.size + tb.dRay.size : 0) : 0;
    return this.params.size + this.grads.size + this.adamGpu.bytesHeld + (this.accumulator?.bytesHeld ?? 0) + batch + torso;
  }

  /** Pixels one torso sub-batch holds (0 without a torso). */
  get torsoRaysPerBatch(): number {
    return this.torso?.rayLimit ?? 0;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.destroyBatch();
    this.destroyTorsoBatch();
    this.accumulator?.destroy();
    if (this.layout) {
      this.adamGpu.destroy();
      this.params.destroy();
      this.grads.destroy();
    }
    const t = this.torso;
    if (t) {
      t.accumulator?.destroy();
      t.adam.destroy();
      t.params.destroy();
      t.grads.destroy();
      this.torso = null;
    }
    if (this.ownsDevice) this.gpu.device.destroy();
  }
}

// Held for the life of the process: when Dawn's GPU object is garbage-collected it tears down
// its instance under the live device and the process aborts.
let nodeEntry: GPU | null = null;

async function defaultGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (nodeEntry) return nodeEntry;
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (cause) {
    throw GpuError.unavailable("WebGPU: no navigator.gpu and the 'webgpu' package could not be loaded", cause);
  }
  Object.assign(globalThis, webgpu.globals);
  nodeEntry = webgpu.create([]) as GPU;
  return nodeEntry;
}

/**
 * `train --backend webgpu` (trainer/nerf/backends.ts): a backend on the default adapter
 * (navigator.gpu in a browser, the `webgpu` package in Node; on machines without a GPU that is
 * SwiftShader, which bin/r2talker.js sets up).
 */
export async function createWebGpuTrainerBackend(options: { gpu?: GPU } & WebGpuTrainerOptions = {}): Promise<TrainerBackend> {
  const ctx = await acquireGpu({ gpu: options.gpu ?? (await defaultGpu()) });
  return new WebGpuTrainerBackend(ctx, true, { maxRaysPerBatch: options.maxRaysPerBatch });
}
