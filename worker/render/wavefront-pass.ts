/**
 * The compacting wavefront of model-spec §7b.1: `maxPasses` rounds of
 * schedule -> march -> field -> composite in one compute pass, no CPU readback. Once the step
 * counter reaches max_steps (or no ray is alive) the schedule writes empty dispatch sizes.
 * Stepwise compositing (fused kernels only) splits each round's field + composite into
 * maxStepsPerPass sub-rounds, one marched sample per live ray each, so samples behind a ray's
 * termination are never evaluated: fewer field evaluations for more (mostly empty) dispatches,
 * the better trade where field work dominates and dispatches are cheap (software adapters).
 */
import { CTRL_STEPS, type FrameBuffers } from './frame-buffers.ts';
import type { HeadFieldPass } from './head-field-pass.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM, writeData } from './gpu-util.ts';
import { buildModule } from './wgsl.ts';

export const MARCH_WORKGROUP = 64;

/**
 * Most sub-rounds stepwise compositing encodes per frame (passes x maxStepsPerPass; the
 * official config needs 16 x 8 = 128). Configs beyond it composite in batches: the format
 * allows up to 1024 x 1024, which would be millions of mostly empty dispatches.
 */
export const STEPWISE_MAX_SUBROUNDS = 512;

export class WavefrontPass {
  private schedule!: GPUComputePipeline;
  private march!: GPUComputePipeline;
  private composite!: GPUComputePipeline;
  private scheduleFused!: GPUComputePipeline;
  private scheduleStep!: GPUComputePipeline;
  private compositeStep!: GPUComputePipeline;
  /** Field + composite one sample per live ray at a time (see the file comment). */
  readonly stepwise: boolean;
  readonly ready: Promise<void>;
  private readonly group0: GPUBindGroup;
  private readonly group1: GPUBindGroup;
  private readonly group2: GPUBindGroup;
  readonly params: GPUBuffer;
  private destroyed = false;

  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers, private readonly field: HeadFieldPass, stepwise = false) {
    this.stepwise = stepwise && field.kind === 'fused' && fb.maxPasses * fb.avatar.config.march.maxStepsPerPass <= STEPWISE_MAX_SUBROUNDS;
    const module = device.createShaderModule({
      label: 'r2t.wavefront',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'marching/wavefront.wgsl'], consts: { MAX_PASSES: fb.maxPasses }, weightType: 'f32' }),
    });
    const l0 = makeLayout(device, 'r2t.wavefront.bgl0', ['uniform', 'storage', 'storage', 'storage', 'read-only-storage', 'storage']);
    const l1 = makeLayout(device, 'r2t.wavefront.bgl1', ['read-only-storage', 'storage']);
    const l2 = makeLayout(device, 'r2t.wavefront.bgl2', ['storage']);
    const constants = { WG_MARCH: MARCH_WORKGROUP, WG_FIELD: field.samplesPerGroup };
    const make = (entry: string, layouts: GPUBindGroupLayout[], extra: Record<string, number> = {}) => makePipeline(device, `r2t.wavefront.${entry}`, module, entry, layouts, { ...constants, ...extra }, fb.compile);
    this.ready = Promise.all([
      make('schedule', [l0, l1, l2]),
      make('march', [l0, l1], { STEPWISE: this.stepwise ? 1 : 0 }),
      make('schedule_fused', [l0, l1, l2]),
      this.stepwise ? make('composite_step', [l0, l1]) : make('composite', [l0, l1]),
      this.stepwise ? make('schedule_step', [l0, l1, l2]) : null,
    ]).then(([schedule, march, scheduleFused, composite, scheduleStep]) => {
      this.schedule = schedule;
      this.march = march;
      this.scheduleFused = scheduleFused;
      if (this.stepwise) {
        this.compositeStep = composite;
        this.scheduleStep = scheduleStep!;
      } else this.composite = composite;
    });
    this.params = makeBuffer(device, 'r2t.wavefront.params', 64, UNIFORM());
    this.group0 = makeBindGroup(device, 'r2t.wavefront.bg0', l0, [this.params, fb.ctrl, fb.rays, fb.alive, fb.bitfield, fb.samples]);
    this.group2 = makeBindGroup(device, 'r2t.wavefront.bg2', l2, [fb.indirect]);
    this.group1 = makeBindGroup(device, 'r2t.wavefront.bg1', l1, [fb.fieldOut, fb.trace]);
  }

  /** Per-frame uniforms and the control block reset (all rays alive, step 0). */
  prepare(pose: Float32Array): void {
    const m = this.fb.avatar.config.march;
    const buf = new ArrayBuffer(64);
    const f = new Float32Array(buf);
    const u = new Uint32Array(buf);
    f.set([pose[3], pose[7], pose[11], 0], 0);
    const dtMax = Math.fround((2 * Math.sqrt(3)) / m.gridResolution);
    const dtMin = Math.min(dtMax, Math.fround((2 * Math.sqrt(3)) / m.maxSteps));
    u.set([this.fb.numRays, m.maxSteps, m.maxStepsPerPass, m.gridResolution], 4);
    f.set([dtMin, dtMax, m.dtGamma, m.tThreshold], 8);
    u[12] = this.fb.traceCap;
    this.device.queue.writeBuffer(this.params, 0, buf);
    const ctrl = new Uint32Array(CTRL_STEPS + this.fb.maxPasses);
    ctrl[0] = this.fb.numRays;
    writeData(this.device.queue, this.fb.ctrl, ctrl);
  }

  run(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.wavefront', timestampWrites });
    for (let p = 0; p < this.fb.maxPasses; p++) {
      pass.setBindGroup(0, this.group0);
      pass.setBindGroup(1, this.group1);
      pass.setBindGroup(2, this.group2);
      pass.setPipeline(this.schedule);
      pass.dispatchWorkgroups(1);
      pass.setPipeline(this.march);
      pass.dispatchWorkgroupsIndirect(this.fb.indirect, 0);
      if (this.field.kind === 'fused') {
        pass.setBindGroup(2, this.group2);
        pass.setPipeline(this.scheduleFused);
        pass.dispatchWorkgroups(1);
      }
      if (this.stepwise) {
        for (let k = 0; k < this.fb.avatar.config.march.maxStepsPerPass; k++) {
          this.field.record(pass);
          pass.setBindGroup(0, this.group0);
          pass.setBindGroup(1, this.group1);
          pass.setPipeline(this.compositeStep);
          pass.dispatchWorkgroupsIndirect(this.fb.indirect, 48);
          pass.setBindGroup(2, this.group2);
          pass.setPipeline(this.scheduleStep);
          pass.dispatchWorkgroups(1);
        }
        continue;
      }
      this.field.record(pass);
      pass.setBindGroup(0, this.group0);
      pass.setBindGroup(1, this.group1);
      pass.setPipeline(this.composite);
      pass.dispatchWorkgroupsIndirect(this.fb.indirect, 0);
    }
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
  }
}
