/**
 * The compacting wavefront of model-spec §7b.1: `maxPasses` rounds of
 * schedule -> march -> field -> composite in one compute pass, no CPU readback. Once the step
 * counter reaches max_steps (or no ray is alive) the schedule writes empty dispatch sizes.
 */
import { CTRL_STEPS, type FrameBuffers } from './frame-buffers.ts';
import type { HeadFieldPass } from './head-field-pass.ts';
import { FIELD_WORKGROUP } from './head-field-pass.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM, writeData } from './gpu-util.ts';
import { buildModule } from './wgsl.ts';

export const MARCH_WORKGROUP = 64;

export class WavefrontPass {
  private schedule!: GPUComputePipeline;
  private march!: GPUComputePipeline;
  private composite!: GPUComputePipeline;
  private scheduleFused!: GPUComputePipeline;
  readonly ready: Promise<void>;
  private readonly group0: GPUBindGroup;
  private readonly group1: GPUBindGroup;
  private readonly group2: GPUBindGroup;
  readonly params: GPUBuffer;
  private destroyed = false;

  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers, private readonly field: HeadFieldPass) {
    const module = device.createShaderModule({
      label: 'r2t.wavefront',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'marching/wavefront.wgsl'], consts: { MAX_PASSES: fb.maxPasses }, weightType: 'f32' }),
    });
    const l0 = makeLayout(device, 'r2t.wavefront.bgl0', ['uniform', 'storage', 'storage', 'storage', 'read-only-storage', 'storage', 'storage']);
    const l1 = makeLayout(device, 'r2t.wavefront.bgl1', ['read-only-storage', 'storage', 'storage']);
    const l2 = makeLayout(device, 'r2t.wavefront.bgl2', ['storage']);
    const constants = { WG_MARCH: MARCH_WORKGROUP, WG_FIELD: FIELD_WORKGROUP };
    this.ready = Promise.all([
      makePipeline(device, 'r2t.wavefront.schedule', module, 'schedule', [l0, l1, l2], constants, fb.compile),
      makePipeline(device, 'r2t.wavefront.march', module, 'march', [l0, l1], constants, fb.compile),
      makePipeline(device, 'r2t.wavefront.scheduleFused', module, 'schedule_fused', [l0, l1, l2], constants, fb.compile),
      makePipeline(device, 'r2t.wavefront.composite', module, 'composite', [l0, l1], constants, fb.compile),
    ]).then(([schedule, march, scheduleFused, composite]) => {
      this.schedule = schedule;
      this.march = march;
      this.scheduleFused = scheduleFused;
      this.composite = composite;
    });
    this.params = makeBuffer(device, 'r2t.wavefront.params', 64, UNIFORM());
    this.group0 = makeBindGroup(device, 'r2t.wavefront.bg0', l0, [this.params, fb.ctrl, fb.rays, fb.alive, fb.bitfield, fb.samples, fb.sampleT]);
    this.group2 = makeBindGroup(device, 'r2t.wavefront.bg2', l2, [fb.indirect]);
    this.group1 = makeBindGroup(device, 'r2t.wavefront.bg1', l1, [fb.fieldOut, fb.trace, fb.sampleList]);
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
