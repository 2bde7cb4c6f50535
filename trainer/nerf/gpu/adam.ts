/**
 * Adam on the GPU over every parameter group in one dispatch (shaders/training/adam.wgsl).
 * Same update as the CPU backend: per-group update counts for the bias correction (a frozen
 * group's count does not advance, as in torch), moments kept while frozen.
 */
import type { AdamMoments, AdamStep } from '../backend.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, writeData, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import type { ParamLayout } from './param-layout.ts';
import { readF32 } from './readback.ts';

const WG = 64;
const MAX_GROUPS = 4096;
const SEG_BYTES = 32;

export class GpuAdam {
  private readonly counts: Map<string, number>;
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly layout: ParamLayout,
    private readonly globals: GPUBuffer,
    private readonly segs: GPUBuffer,
    readonly m: GPUBuffer,
    readonly v: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly pipeline: GPUComputePipeline,
  ) {
    this.counts = new Map(layout.slots.map((s) => [s.name, 0]));
  }

  /** params and grads: flat float32 buffers in `layout` (the backend owns them). */
  static async create(device: GPUDevice, layout: ParamLayout, buffers: { params: GPUBuffer; grads: GPUBuffer }, compile: CompileMode = 'async'): Promise<GpuAdam> {
    for (const k of ['params', 'grads'] as const) {
      if (buffers[k].size < 4 * layout.total) throw new ConfigError(`GpuAdam.${k}: needs ${4 * layout.total} bytes, buffer has ${buffers[k].size}`);
    }
    return withGpuErrors(device, 'r2t.train.adam', async () => {
      const module = device.createShaderModule({ label: 'r2t.train.adam', code: buildModule({ parts: ['common/dispatch.wgsl', 'training/adam.wgsl'], consts: {}, weightType: 'f32' }) });
      const bgl = makeLayout(device, 'r2t.train.adam.bgl', ['uniform', 'read-only-storage', 'storage', 'read-only-storage', 'storage', 'storage']);
      const globals = makeBuffer(device, 'r2t.train.adam.globals', 32, UNIFORM());
      const segs = makeBuffer(device, 'r2t.train.adam.segs', SEG_BYTES * layout.slots.length, STORAGE());
      const m = makeBuffer(device, 'r2t.train.adam.m', 4 * layout.total, STORAGE());
      const v = makeBuffer(device, 'r2t.train.adam.v', 4 * layout.total, STORAGE());
      try {
        const group = makeBindGroup(device, 'r2t.train.adam.bg', bgl, [globals, segs, buffers.params, buffers.grads, m, v]);
        const pipeline = await makePipeline(device, 'r2t.train.adam', module, 'adam_step', [bgl], { WG_ADAM: WG }, compile);
        return new GpuAdam(device, layout, globals, segs, m, v, group, pipeline);
      } catch (e) {
        for (const b of [globals, segs, m, v]) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.globals.size + this.segs.size + this.m.size + this.v.size;
  }

  /**
   * Records one Adam update of the groups named in step.lr. The settings travel by
   * queue.writeBuffer, which lands before the next submit: one update per submitted command buffer.
   */
  encode(encoder: GPUCommandEncoder, step: AdamStep): void {
    if (this.destroyed) throw new ConfigError('GpuAdam: used after destroy()');
    const { beta1, beta2, eps } = step;
    for (const [k, x] of [['beta1', beta1], ['beta2', beta2]] as const) {
      if (!(x >= 0 && x < 1)) throw new ConfigError(`adam.${k}: expected a value in [0, 1), got ${x}`);
    }
    if (!(eps >= 0) || !Number.isFinite(eps)) throw new ConfigError(`adam.eps: expected a finite value >= 0, got ${eps}`);
    for (const [name, lr] of step.lr) {
      if (!this.layout.has(name)) throw new ConfigError(`adam: unknown group ${name}`);
      if (!Number.isFinite(lr)) throw new ConfigError(`adam.lr[${name}]: expected a finite learning rate, got ${lr}`);
    }
    const seg = new ArrayBuffer(SEG_BYTES * this.layout.slots.length);
    const su = new Uint32Array(seg);
    const sf = new Float32Array(seg);
    this.layout.slots.forEach((s, k) => {
      const lr = step.lr.get(s.name);
      const o = k * (SEG_BYTES / 4);
      su[o] = s.offset;
      su[o + 1] = s.offset + s.length;
      if (lr === undefined) return;
      const t = (this.counts.get(s.name) ?? 0) + 1;
      this.counts.set(s.name, t);
      su[o + 2] = 1;
      sf[o + 4] = lr;
      sf[o + 5] = 1 - Math.pow(beta1, t);
      sf[o + 6] = 1 - Math.pow(beta2, t);
    });
    const glob = new ArrayBuffer(32);
    new Uint32Array(glob, 0, 2).set([this.layout.total, this.layout.slots.length]);
    new Float32Array(glob, 8, 5).set([beta1, beta2, 1 - beta1, 1 - beta2, eps]);
    this.device.queue.writeBuffer(this.segs, 0, seg);
    this.device.queue.writeBuffer(this.globals, 0, glob);
    const pass = encoder.beginComputePass({ label: 'r2t.train.adam' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(this.layout.total / WG)));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  async readMoments(): Promise<Map<string, AdamMoments>> {
    const m = this.layout.unpack(await readF32(this.device, this.m, this.layout.total));
    const v = this.layout.unpack(await readF32(this.device, this.v, this.layout.total));
    return new Map(this.layout.slots.map((s) => [s.name, { m: m.get(s.name)!, v: v.get(s.name)!, step: this.counts.get(s.name) ?? 0 }]));
  }

  /** Restores moments saved by readMoments (resume); groups not named keep theirs. */
  async writeMoments(moments: ReadonlyMap<string, AdamMoments>): Promise<void> {
    for (const [name, mo] of moments) {
      const s = this.layout.get(name);
      if (mo.m.length !== s.length || mo.v.length !== s.length) throw new ConfigError(`writeMoments: group ${name} has ${mo.m.length}/${mo.v.length} moments, expected ${s.length}`);
      if (!Number.isInteger(mo.step) || mo.step < 0) throw new ConfigError(`writeMoments: group ${name} step ${mo.step} is not a count`);
    }
    for (const [name, mo] of moments) {
      const s = this.layout.get(name);
      writeData(this.device.queue, this.m, mo.m, 4 * s.offset);
      writeData(this.device.queue, this.v, mo.v, 4 * s.offset);
      this.counts.set(name, mo.step);
    }
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.globals, this.segs, this.m, this.v]) b.destroy();
  }
}
