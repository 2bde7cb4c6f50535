/**
 * Volume compositing of training rays on the GPU, forward (colour and weight sum per ray) and
 * backward (dL/d colour and dL/d sigma per sample). WGSL: shaders/training/composite.wgsl.
 * CPU reference: trainer/nerf/cpu/composite.ts.
 */
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { makeBuffer, makeLayout, makePipeline, UNIFORM, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { sliceBinding, type BufferSlice } from './buffer-slice.ts';

const WG = 64;
const MAX_GROUPS = 4096;

type Slice = GPUBuffer | BufferSlice;

export interface CompositeIO {
  /** vec2u per ray: first sample, sample count */
  rays: Slice;
  /** vec4f per sample: rgb, sigma */
  field: Slice;
  /** f32 per sample: step length */
  dts: Slice;
  /** vec4f per ray out: premultiplied rgb, weight sum */
  rayOut: Slice;
  /** u32 per ray out: samples composited before the transmittance threshold */
  used: Slice;
  /** vec4f per ray in: dL/drgb, dL/dweightSum */
  dRay: Slice;
  /** vec4f per sample out: dL/drgb, dL/dsigma */
  dField: Slice;
}

export interface CompositeOptions {
  maxRays: number;
  maxSamples: number;
  /** transmittance below which a ray stops (model-spec §7b: 1e-4) */
  tThreshold: number;
  label?: string;
  compile?: CompileMode;
}

export class GpuCompositor {
  private destroyed = false;
  private rays = 0;

  private constructor(
    private readonly device: GPUDevice,
    private readonly opts: CompositeOptions & { label: string },
    private readonly params: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly forward: GPUComputePipeline,
    private readonly backward: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice, options: CompositeOptions, io: CompositeIO): Promise<GpuCompositor> {
    const label = options.label ?? 'r2t.train.composite';
    const { maxRays, maxSamples, tThreshold } = options;
    for (const [k, v] of [['maxRays', maxRays], ['maxSamples', maxSamples]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 1 << 26) throw new ConfigError(`${label}.${k}: expected an integer in [1, 2^26], got ${v}`);
    }
    if (!(tThreshold >= 0 && tThreshold < 1)) throw new ConfigError(`${label}.tThreshold: expected a value in [0, 1), got ${tThreshold}`);
    const bind = [
      sliceBinding(`${label}.rays`, io.rays, 8 * maxRays),
      sliceBinding(`${label}.field`, io.field, 16 * maxSamples),
      sliceBinding(`${label}.dts`, io.dts, 4 * maxSamples),
      sliceBinding(`${label}.rayOut`, io.rayOut, 16 * maxRays),
      sliceBinding(`${label}.used`, io.used, 4 * maxRays),
      sliceBinding(`${label}.dRay`, io.dRay, 16 * maxRays),
      sliceBinding(`${label}.dField`, io.dField, 16 * maxSamples),
    ];
    return withGpuErrors(device, label, async () => {
      const params = makeBuffer(device, `${label}.params`, 16, UNIFORM());
      try {
        const module = device.createShaderModule({ label, code: buildModule({ parts: ['common/dispatch.wgsl', 'training/composite.wgsl'], consts: {}, weightType: 'f32' }) });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'read-only-storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: params }, ...bind];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const mode = options.compile ?? 'async';
        const [fw, bw] = await Promise.all(['composite_forward', 'composite_backward'].map((e) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_COMP: WG }, mode)));
        return new GpuCompositor(device, { ...options, label }, params, group, fw, bw);
      } catch (e) {
        params.destroy();
        throw e;
      }
    });
  }

  /**
   * Sets the ray count for the following encodes (it travels by queue.writeBuffer, so it holds
   * for every command buffer submitted after this call until the next setRays).
   */
  setRays(numRays: number): void {
    if (!Number.isInteger(numRays) || numRays < 0 || numRays > this.opts.maxRays) throw new ConfigError(`${this.opts.label}.numRays: expected an integer in [0, ${this.opts.maxRays}], got ${numRays}`);
    this.rays = numRays;
    const buf = new ArrayBuffer(16);
    new Uint32Array(buf)[0] = numRays;
    new Float32Array(buf)[1] = this.opts.tThreshold;
    this.device.queue.writeBuffer(this.params, 0, buf);
  }

  /** Colour and weight sum per ray. A span past the sample arrays reads clamped values (WebGPU
   * bounds every access), never other memory; the loop builds spans within maxSamples. */
  encodeForward(encoder: GPUCommandEncoder): void {
    this.run(encoder, this.forward, 'forward');
  }

  /** Per-sample gradients from dRay; needs rayOut and used of the forward on the same field. */
  encodeBackward(encoder: GPUCommandEncoder): void {
    this.run(encoder, this.backward, 'backward');
  }

  private run(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, what: string): void {
    if (this.destroyed) throw new ConfigError(`${this.opts.label}: used after destroy()`);
    if (this.rays === 0) return;
    const pass = encoder.beginComputePass({ label: `${this.opts.label}.${what}` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.group);
    const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(this.rays / WG)));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
  }
}
