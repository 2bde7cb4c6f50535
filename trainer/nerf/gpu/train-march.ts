/**
 * Ray marching of the training rays on the GPU (shaders/training/train-march.wgsl): fills the
 * head field's sample slots (MAX_STEPS per ray), their step lengths and the per-ray spans the
 * compositor reads. CPU reference: worker/model/march.ts marchRay with the CPU backend's
 * perturbed start.
 */
import type { ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { stepBounds } from '../../../worker/model/march.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, writeData, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import type { TrainRays } from '../backend.ts';
import { sliceBinding } from './buffer-slice.ts';

const WG = 64;

export interface TrainMarchIO {
  /** vec4 positions at [0, capacity), directions at [capacity, 2 capacity) */
  samples: GPUBuffer;
  /** f32 per slot */
  dts: GPUBuffer;
  /** vec2u per ray: first slot, samples marched */
  spans: GPUBuffer;
}

export class GpuTrainMarch {
  private destroyed = false;
  private rays = 0;

  private constructor(
    private readonly device: GPUDevice,
    private readonly config: ModelConfig,
    private readonly maxRays: number,
    private readonly capacity: number,
    private readonly uniform: GPUBuffer,
    private readonly raysIn: GPUBuffer,
    private readonly bitfield: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly pipeline: GPUComputePipeline,
  ) {}

  /** capacity: slots of io.samples (>= maxRays * maxSteps). */
  static async create(device: GPUDevice, config: ModelConfig, maxRays: number, capacity: number, io: TrainMarchIO, compile: CompileMode = 'async'): Promise<GpuTrainMarch> {
    const label = 'r2t.train.march';
    const S = config.march.maxSteps;
    if (!Number.isInteger(maxRays) || maxRays < 1 || maxRays * S > capacity) throw new ConfigError(`${label}.maxRays: ${maxRays} rays of ${S} slots do not fit ${capacity} slots`);
    const R = config.march.gridResolution;
    const bind = [sliceBinding(`${label}.samples`, io.samples, 32 * capacity), sliceBinding(`${label}.dts`, io.dts, 4 * capacity), sliceBinding(`${label}.spans`, io.spans, 8 * maxRays)];
    return withGpuErrors(device, label, async () => {
      const uniform = makeBuffer(device, `${label}.params`, 32, UNIFORM());
      const raysIn = makeBuffer(device, `${label}.rays`, 48 * maxRays, STORAGE());
      const bitfield = makeBuffer(device, `${label}.bitfield`, (R * R * R) / 8, STORAGE());
      try {
        const module = device.createShaderModule({ label, code: buildModule({ parts: ['common/dispatch.wgsl', 'training/train-march.wgsl'], consts: { MAX_STEPS: S }, weightType: 'f32' }) });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: uniform }, { buffer: raysIn }, { buffer: bitfield }, ...bind];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const pipeline = await makePipeline(device, label, module, 'train_march', [bgl], { WG_TMARCH: WG }, compile);
        return new GpuTrainMarch(device, config, maxRays, capacity, uniform, raysIn, bitfield, group, pipeline);
      } catch (e) {
        for (const b of [uniform, raysIn, bitfield]) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.uniform.size + this.raysIn.size + this.bitfield.size;
  }

  /** The occupancy bitfield the march reads (gridResolution^3 / 8 bytes, Morton order). */
  setBitfield(bits: Uint8Array): void {
    const R = this.config.march.gridResolution;
    if (bits.length !== (R * R * R) / 8) throw new ConfigError(`bitfield: expected ${(R * R * R) / 8} bytes for a ${R}^3 grid, got ${bits.length}`);
    writeData(this.device.queue, this.bitfield, bits);
  }

  /** The batch's rays (uploaded with the march settings; they hold for the following encodes). */
  setRays(rays: TrainRays): void {
    if (this.destroyed) throw new ConfigError('r2t.train.march: used after destroy()');
    const N = rays.count;
    if (!Number.isInteger(N) || N < 0 || N > this.maxRays) throw new ConfigError(`r2t.train.march.rays.count: expected an integer in [0, ${this.maxRays}], got ${N}`);
    const data = new Float32Array(12 * N);
    for (let r = 0; r < N; r++) {
      data.set(rays.origins.subarray(3 * r, 3 * r + 3), 12 * r);
      data[12 * r + 3] = rays.nears[r];
      data.set(rays.directions.subarray(3 * r, 3 * r + 3), 12 * r + 4);
      data[12 * r + 7] = rays.fars[r];
      data[12 * r + 8] = rays.jitter[r];
    }
    writeData(this.device.queue, this.raysIn, data);
    const { dtMin, dtMax } = stepBounds(this.config.march);
    const u = new ArrayBuffer(32);
    new Uint32Array(u, 0, 4).set([N, this.config.march.gridResolution, this.capacity, 0]);
    new Float32Array(u, 16, 3).set([dtMin, dtMax, this.config.march.dtGamma]);
    this.device.queue.writeBuffer(this.uniform, 0, u);
    this.rays = N;
  }

  encode(encoder: GPUCommandEncoder): void {
    if (this.destroyed) throw new ConfigError('r2t.train.march: used after destroy()');
    if (this.rays === 0) return;
    const pass = encoder.beginComputePass({ label: 'r2t.train.march' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    const [x, y] = splitGroups(Math.min(4096, Math.ceil(this.rays / WG)));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.uniform, this.raysIn, this.bitfield]) b.destroy();
  }
}
