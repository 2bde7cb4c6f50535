/**
 * Fast mode's marching round on the GPU (CPU reference: worker/model/fast-march.ts
 * fastMarchImage): the rays of a list of pixels, each with its evaluation start, marched by the
 * wavefront of shaders/marching/wavefront.wgsl (its schedule kernels and the fused head field
 * unchanged) with the fast march and compositing kernels of shaders/fast/. Ray j of the list
 * lives at index j of the frame's ray and alive buffers, so the schedule sizes its passes from
 * the list length exactly as the CPU reference does for the rays it is given.
 */
import { ConfigError } from '../errors.ts';
import { borrowColour, closeOpaque, VISIBLE_WEIGHT } from '../model/fast-march.ts';
import { cameraBlock } from './frame-data.ts';
import { CTRL_STEPS, type FrameBuffers } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM, writeData } from './gpu-util.ts';
import type { HeadFieldPass } from './head-field-pass.ts';
import { MARCH_WORKGROUP, STEPWISE_MAX_SUBROUNDS } from './wavefront-pass.ts';
import { buildModule, splitGroups } from './wgsl.ts';

/** u32 words per listed ray in the fast state buffer (shaders/fast/fast-state.wgsl FR). */
export const FAST_RAY_WORDS = 12;
/** shaders/fast/fast-state.wgsl NO_START: the ray evaluates every sample. */
export const NO_START = -3.0e38;
export const FLAG_REPLAYED = 4;

/** Word offsets of the sections of the fast state after the rays' words (shaders/fast/fast-state.wgsl). */
export function fastSlots(numRays: number): { FAST_SLOT_T: number; FAST_SLOT_SENS: number; FAST_SLOT_COL: number; FAST_RAY_GEO: number } {
  const r = FAST_RAY_WORDS * numRays;
  return { FAST_SLOT_T: r, FAST_SLOT_SENS: r + numRays, FAST_SLOT_COL: r + 2 * numRays, FAST_RAY_GEO: r + 3 * numRays };
}

/**
 * Bytes of the fast state for an image of numRays pixels: per ray FAST_RAY_WORDS words, per
 * sample slot t, sensitivity and a colour list entry, per ray `geoDim` geometry features.
 */
export function fastStateBytes(numRays: number, geoDim: number): number {
  return 4 * (FAST_RAY_WORDS * numRays + 3 * numRays + geoDim * numRays);
}

/** Whether stepwise compositing fits the frame's config (wavefront-pass.ts STEPWISE_MAX_SUBROUNDS). */
export function fastStepwiseFits(fb: FrameBuffers): boolean {
  return fb.maxPasses * fb.avatar.config.march.maxStepsPerPass <= STEPWISE_MAX_SUBROUNDS;
}

export interface FastMarchParams {
  validAlpha: number;
  colourWeight: number;
  hitAlpha: number;
  /** Transmittance below which a ray ends (with the avatar's march.tThreshold, the larger). */
  terminate: number;
}

/** What one round returns per listed ray (list order). */
export interface FastRoundResult {
  rgb: Float32Array;
  weightSum: Float32Array;
  /** NaN where the ray found no surface. */
  hitT: Float32Array;
  sensitivity: Float32Array;
  replayed: number;
  /** Field evaluations (samples the head net's density half ran on). */
  evaluated: number;
  /** Samples the colour half ran on (all evaluated ones without the colour gate). */
  colourEvaluated: number;
  passes: number[];
}

export class FastWavefrontPass {
  private initRays!: GPUComputePipeline;
  private schedule!: GPUComputePipeline;
  private march!: GPUComputePipeline;
  private scheduleFused!: GPUComputePipeline;
  private composite!: GPUComputePipeline;
  private scheduleStep!: GPUComputePipeline;
  private scheduleColour: GPUComputePipeline | null = null;
  /** The colour gate: the colour half runs only on samples whose weight shows (field.gated, stepwise only). */
  readonly gated: boolean;
  /** Field + composite one listed sample per ray at a time (wavefront-pass.ts): no sample behind a ray's end is evaluated. */
  readonly stepwise: boolean;
  readonly ready: Promise<void>;
  private readonly camera: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly fastParams: GPUBuffer;
  private readonly rayGroup: GPUBindGroup;
  private readonly rayState: GPUBindGroup;
  private readonly empty: GPUBindGroup;
  private readonly group0: GPUBindGroup;
  private readonly group1: GPUBindGroup;
  private readonly group2: GPUBindGroup;
  private readonly group3: GPUBindGroup;
  private destroyed = false;

  /**
   * `state`: at least fastStateBytes(fb.numRays) bytes, shared with the head field's fast entry (owned by the caller).
   * `stepwise`: composite one sample per ray at a time (configs with more than STEPWISE_MAX_SUBROUNDS sub-rounds batch).
   */
  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers, private readonly field: HeadFieldPass, readonly state: GPUBuffer, private readonly settings: FastMarchParams, stepwise = true) {
    if (field.kind !== 'fused') throw new ConfigError('fast mode on WebGPU needs the fused head kernel; this avatar\'s head net is too wide for it (use the cpu backend or exact mode)');
    this.stepwise = stepwise && fastStepwiseFits(fb);
    if (field.gated && !this.stepwise) throw new ConfigError('fast march: the colour gate needs stepwise compositing');
    this.gated = field.gated;
    const N = fb.numRays;
    const consts = { MAX_PASSES: fb.maxPasses, ...fastSlots(N) };
    const need = fastStateBytes(N, this.gated ? fb.avatar.config.head.geoFeatDim : 0);
    if (state.size < need) throw new Error(`FastWavefrontPass: state buffer of ${state.size} bytes, need ${need}`);
    const rayModule = device.createShaderModule({
      label: 'r2t.fast.rays',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'marching/rays.wgsl', 'fast/fast-state.wgsl', 'fast/fast-rays.wgsl'], consts, weightType: 'f32' }),
    });
    const waveModule = device.createShaderModule({
      label: 'r2t.fast.wavefront',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'marching/wavefront.wgsl', 'fast/fast-state.wgsl', 'fast/fast-wavefront.wgsl'], consts, weightType: 'f32' }),
    });
    const lEmpty = makeLayout(device, 'r2t.fast.empty.bgl', []);
    const lRay = makeLayout(device, 'r2t.fast.rays.bgl', ['uniform', 'storage', 'storage']);
    const lRayState = makeLayout(device, 'r2t.fast.rays.state.bgl', ['storage']);
    const l0 = makeLayout(device, 'r2t.fast.bgl0', ['uniform', 'storage', 'storage', 'storage', 'read-only-storage', 'storage']);
    const l1 = makeLayout(device, 'r2t.fast.bgl1', ['read-only-storage', 'storage']);
    const l2 = makeLayout(device, 'r2t.fast.bgl2', ['storage']);
    const l3 = makeLayout(device, 'r2t.fast.bgl3', ['storage', 'uniform']);
    const constants = { WG_MARCH: MARCH_WORKGROUP, WG_FIELD: field.samplesPerGroup };
    const make = (entry: string, layouts: GPUBindGroupLayout[]) => makePipeline(device, `r2t.fast.${entry}`, waveModule, entry, layouts, { ...constants, STEPWISE: this.stepwise ? 1 : 0, COLOUR_GATE: this.gated ? 1 : 0 }, fb.compile);
    // The indirect dispatches (march, composite) bind an empty group 2: a dispatch may not
    // read its indirect arguments while they are bound writable.
    this.ready = Promise.all([
      makePipeline(device, 'r2t.fast.init_rays', rayModule, 'fast_init_rays', [lRay, lEmpty, lEmpty, lRayState], {}, fb.compile),
      make(this.stepwise ? 'fast_schedule_slot' : 'schedule', [l0, l1, l2]),
      make('fast_march', [l0, l1, lEmpty, l3]),
      make('schedule_fused', [l0, l1, l2]),
      this.stepwise ? make('fast_composite_step', [l0, l1, lEmpty, l3]) : make('fast_composite', [l0, l1, lEmpty, l3]),
      this.stepwise ? make('fast_schedule_step', [l0, l1, l2]) : null,
      this.gated ? make('schedule_colour', [l0, l1, l2]) : null,
    ]).then(([init, schedule, march, scheduleFused, composite, scheduleStep, scheduleColour]) => {
      this.initRays = init;
      this.schedule = schedule;
      this.march = march;
      this.scheduleFused = scheduleFused;
      this.composite = composite;
      if (scheduleStep) this.scheduleStep = scheduleStep;
      this.scheduleColour = scheduleColour;
    });
    this.camera = makeBuffer(device, 'r2t.fast.camera', 112, UNIFORM());
    this.params = makeBuffer(device, 'r2t.fast.params', 64, UNIFORM());
    this.fastParams = makeBuffer(device, 'r2t.fast.fastParams', 16, UNIFORM(), new Float32Array([settings.validAlpha, settings.colourWeight, settings.hitAlpha, VISIBLE_WEIGHT]));
    this.rayGroup = makeBindGroup(device, 'r2t.fast.rays.bg', lRay, [this.camera, fb.rays, fb.alive]);
    this.rayState = makeBindGroup(device, 'r2t.fast.rays.state.bg', lRayState, [this.state]);
    this.empty = makeBindGroup(device, 'r2t.fast.empty.bg', lEmpty, []);
    this.group0 = makeBindGroup(device, 'r2t.fast.bg0', l0, [this.params, fb.ctrl, fb.rays, fb.alive, fb.bitfield, fb.samples]);
    this.group1 = makeBindGroup(device, 'r2t.fast.bg1', l1, [fb.fieldOut, fb.trace]);
    this.group2 = makeBindGroup(device, 'r2t.fast.bg2', l2, [fb.indirect]);
    this.group3 = makeBindGroup(device, 'r2t.fast.bg3', l3, [this.state, this.fastParams]);
  }

  /**
   * Writes the round's inputs (the listed pixels, their evaluation starts: NO_START or
   * -Infinity for all samples) and records it. The head field's params must say `pixels.length`
   * rays (HeadFieldPass params word 1) before the round is submitted.
   */
  encode(encoder: GPUCommandEncoder, pose: Float32Array, pixels: Uint32Array, tStart: Float32Array): void {
    const L = pixels.length;
    const N = this.fb.numRays;
    if (L < 1 || L > N) throw new ConfigError(`fast march: expected 1..${N} pixels, got ${L}`);
    if (tStart.length !== L) throw new ConfigError(`fast march: tStart: expected ${L} values, got ${tStart.length}`);
    const q = this.device.queue;
    const cfg = this.fb.avatar.config;
    const cam = cameraBlock(pose, this.fb.avatar.camera, cfg);
    new Uint32Array(cam)[26] = L;
    q.writeBuffer(this.camera, 0, cam);
    const st = new ArrayBuffer(4 * FAST_RAY_WORDS * L);
    const sf = new Float32Array(st);
    const su = new Uint32Array(st);
    for (let j = 0; j < L; j++) {
      if (!(pixels[j] < N)) throw new ConfigError(`fast march: pixel ${pixels[j]} outside the ${N}-pixel image`);
      const t = tStart[j];
      sf[j * FAST_RAY_WORDS] = t > NO_START ? t : NO_START;
      sf[j * FAST_RAY_WORDS + 1] = -1;
      su[j * FAST_RAY_WORDS + 4] = pixels[j];
    }
    q.writeBuffer(this.state, 0, st);
    const m = cfg.march;
    const buf = new ArrayBuffer(64);
    const f = new Float32Array(buf);
    const u = new Uint32Array(buf);
    f.set([pose[3], pose[7], pose[11], 0], 0);
    const dtMax = Math.fround((2 * Math.sqrt(3)) / m.gridResolution);
    const dtMin = Math.min(dtMax, Math.fround((2 * Math.sqrt(3)) / m.maxSteps));
    u.set([L, m.maxSteps, m.maxStepsPerPass, m.gridResolution], 4);
    f.set([dtMin, dtMax, m.dtGamma, Math.max(m.tThreshold, this.settings.terminate)], 8);
    q.writeBuffer(this.params, 0, buf);
    const ctrl = new Uint32Array(CTRL_STEPS + this.fb.maxPasses);
    ctrl[0] = L;
    writeData(q, this.fb.ctrl, ctrl);

    const rp = encoder.beginComputePass({ label: 'r2t.fast.rays' });
    rp.setPipeline(this.initRays);
    rp.setBindGroup(0, this.rayGroup);
    rp.setBindGroup(1, this.empty);
    rp.setBindGroup(2, this.empty);
    rp.setBindGroup(3, this.rayState);
    const [x, y] = splitGroups(Math.ceil(L / 64));
    rp.dispatchWorkgroups(x, y);
    rp.end();

    const pass = encoder.beginComputePass({ label: 'r2t.fast.wavefront' });
    if (this.stepwise) {
      // One sub-round a slot (shaders/fast/fast-wavefront.wgsl fast_schedule_slot).
      const m = this.fb.avatar.config.march;
      for (let k = 0; k < m.maxSteps + m.maxStepsPerPass - 1; k++) {
        this.recordRound(pass, 48);
        if (this.scheduleColour) {
          pass.setPipeline(this.scheduleColour);
          pass.dispatchWorkgroups(1);
          this.field.recordColour(pass);
          pass.setBindGroup(0, this.group0);
          pass.setBindGroup(1, this.group1);
          pass.setBindGroup(2, this.group2);
        }
        pass.setPipeline(this.scheduleStep);
        pass.dispatchWorkgroups(1);
      }
    } else {
      for (let p = 0; p < this.fb.maxPasses; p++) this.recordRound(pass, 0);
    }
    pass.end();
  }

  /**
   * One round: schedule (a pass, or a stepwise slot), march, the fused field, composite. The
   * composite's indirect arguments sit at `compositeOffset` (stepwise compositing has its own).
   * Leaves group 2 bound for the schedule kernels that follow.
   */
  private recordRound(pass: GPUComputePassEncoder, compositeOffset: number): void {
    pass.setBindGroup(0, this.group0);
    pass.setBindGroup(1, this.group1);
    pass.setBindGroup(2, this.group2);
    pass.setPipeline(this.schedule);
    pass.dispatchWorkgroups(1);
    pass.setBindGroup(2, this.empty);
    pass.setBindGroup(3, this.group3);
    pass.setPipeline(this.march);
    pass.dispatchWorkgroupsIndirect(this.fb.indirect, 0);
    pass.setBindGroup(2, this.group2);
    pass.setPipeline(this.scheduleFused);
    pass.dispatchWorkgroups(1);
    this.field.record(pass);
    pass.setBindGroup(0, this.group0);
    pass.setBindGroup(1, this.group1);
    pass.setBindGroup(2, this.empty);
    pass.setBindGroup(3, this.group3);
    pass.setPipeline(this.composite);
    pass.dispatchWorkgroupsIndirect(this.fb.indirect, compositeOffset);
    pass.setBindGroup(2, this.group2);
  }

  /** Copies the round's results into fresh mappable buffers (read them with `read`). */
  stage(encoder: GPUCommandEncoder, count: number): GPUBuffer[] {
    const copy = (src: GPUBuffer, bytes: number, label: string) => {
      const dst = this.device.createBuffer({ label: `r2t.fast.readback.${label}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
      return dst;
    };
    return [copy(this.fb.rays, 48 * count, 'rays'), copy(this.state, 4 * FAST_RAY_WORDS * count, 'state'), copy(this.fb.ctrl, 4 * (CTRL_STEPS + this.fb.maxPasses), 'ctrl')];
  }

  /** Maps the staged buffers (after submit), unpacks them and destroys them. */
  async read(staged: GPUBuffer[], count: number): Promise<FastRoundResult> {
    try {
      await Promise.all(staged.map((b) => b.mapAsync(GPUMapMode.READ)));
      const rays = new Float32Array(staged[0].getMappedRange().slice(0));
      const stateBytes = staged[1].getMappedRange().slice(0);
      const sf = new Float32Array(stateBytes);
      const su = new Uint32Array(stateBytes);
      const ctrl = new Uint32Array(staged[2].getMappedRange().slice(0));
      // Ctrl (march-types.wgsl): total_samples at word 7, total_colour at 12.
      const out: FastRoundResult = { rgb: new Float32Array(count * 3), weightSum: new Float32Array(count), hitT: new Float32Array(count), sensitivity: new Float32Array(count), replayed: 0, evaluated: ctrl[7], colourEvaluated: this.gated ? ctrl[12] : ctrl[7], passes: [] };
      for (let j = 0; j < count; j++) {
        // Ray struct (march-types.wgsl): dir (0..2), t (3), rgb (4..6), wsum (7), ...; with the
        // colour gate the colour is in the fast state's words 8..10 instead (rays' rgb stays 0).
        const o = j * FAST_RAY_WORDS;
        out.rgb[j * 3] = rays[j * 12 + 4] + sf[o + 8];
        out.rgb[j * 3 + 1] = rays[j * 12 + 5] + sf[o + 9];
        out.rgb[j * 3 + 2] = rays[j * 12 + 6] + sf[o + 10];
        out.weightSum[j] = rays[j * 12 + 7];
        const hit = sf[j * FAST_RAY_WORDS + 1];
        out.hitT[j] = hit < 0 ? NaN : hit;
        out.sensitivity[j] = sf[j * FAST_RAY_WORDS + 2];
        if (su[j * FAST_RAY_WORDS + 3] & FLAG_REPLAYED) out.replayed++;
      }
      const pending = new Float32Array(count);
      const coloured = new Float32Array(count);
      for (let j = 0; j < count; j++) {
        pending[j] = sf[j * FAST_RAY_WORDS + 5];
        coloured[j] = sf[j * FAST_RAY_WORDS + 6];
      }
      borrowColour(out.rgb, pending, coloured);
      closeOpaque(out.rgb, out.weightSum, this.settings.terminate);
      for (let i = 0; i < this.fb.maxPasses && ctrl[CTRL_STEPS + i] > 0; i++) out.passes.push(ctrl[CTRL_STEPS + i]);
      return out;
    } finally {
      for (const b of staged) b.destroy();
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.camera, this.params, this.fastParams]) b.destroy();
  }
}
