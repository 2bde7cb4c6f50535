/**
 * GPU backward of the bias-free MLP building blocks over a batch of samples:
 * LinearBackward (input gradient with an optional ReLU mask, weight gradient by a chunked
 * two-pass reduction) and FilmBackward (the FiLM vector's gradient, summed over the batch, and
 * the input gradient). WGSL: shaders/training/mlp-backward.wgsl, film-backward.wgsl.
 * CPU reference: trainer/nerf/cpu/mlp-backward.ts.
 */
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { sliceBinding, type BufferSlice } from './buffer-slice.ts';

const WG = 64;
const MAX_GROUPS = 4096;
/** Samples one partial sum covers: long enough serial runs, few enough partials to reduce. */
export const CHUNK = 256;
/** Bounds every loop the batch size controls. */
const MAX_SAMPLES = 1 << 24;
/** Widest layer input: the conditioning MLPs read 68 x 5 x 16 x 2 = 10880 code values. */
const MAX_WIDTH = 1 << 16;

type Slice = GPUBuffer | BufferSlice;

function checkDims(label: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1 || v > (k === 'maxSamples' ? MAX_SAMPLES : MAX_WIDTH)) throw new ConfigError(`${label}.${k}: expected a positive integer within bounds, got ${v}`);
  }
}

function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, items: number): void {
  if (items === 0) return;
  pass.setPipeline(pipeline);
  const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(items / WG)));
  pass.dispatchWorkgroups(x, y);
}

export interface LinearBackwardIO {
  /** [outDim, inDim] weights */
  w: Slice;
  /** [n, inDim] layer inputs of the forward */
  x: Slice;
  /** [n, outDim] dL/dy */
  dy: Slice;
  /** [n, inDim] dL/dx out (null: not needed, e.g. the first layer) */
  dx: Slice | null;
  /** [outDim, inDim] dL/dW out, overwritten (null: frozen layer) */
  dw: Slice | null;
}

export interface LinearBackwardOptions {
  inDim: number;
  outDim: number;
  maxSamples: number;
  /** x is the ReLU output of the previous layer: zero dx where x <= 0 (the previous ReLU's backward). */
  reluMask: boolean;
  label?: string;
  compile?: CompileMode;
}

export class LinearBackward {
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly opts: LinearBackwardOptions & { label: string },
    private readonly hasDx: boolean,
    private readonly hasDw: boolean,
    private readonly owned: GPUBuffer[],
    private readonly params: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly pipelines: GPUComputePipeline[],
  ) {}

  static async create(device: GPUDevice, options: LinearBackwardOptions, io: LinearBackwardIO): Promise<LinearBackward> {
    const label = options.label ?? 'r2t.train.linearBackward';
    const { inDim, outDim, maxSamples } = options;
    checkDims(label, { inDim, outDim, maxSamples });
    const chunks = Math.ceil(maxSamples / CHUNK);
    const bind = [
      sliceBinding(`${label}.w`, io.w, 4 * outDim * inDim),
      sliceBinding(`${label}.x`, io.x, 4 * maxSamples * inDim),
      sliceBinding(`${label}.dy`, io.dy, 4 * maxSamples * outDim),
    ];
    const dxB = io.dx ? sliceBinding(`${label}.dx`, io.dx, 4 * maxSamples * inDim) : null;
    const dwB = io.dw ? sliceBinding(`${label}.dw`, io.dw, 4 * outDim * inDim) : null;
    return withGpuErrors(device, label, async () => {
      const owned: GPUBuffer[] = [];
      try {
        const params = makeBuffer(device, `${label}.params`, 16, UNIFORM());
        owned.push(params);
        // Stand-ins keep one bind group layout whether or not dx / dW are wanted.
        const partial = makeBuffer(device, `${label}.partial`, dwB ? 4 * chunks * outDim * inDim : 4, STORAGE());
        owned.push(partial);
        const dxStand = dxB ? null : makeBuffer(device, `${label}.dxUnused`, 4, STORAGE());
        const dwStand = dwB ? null : makeBuffer(device, `${label}.dwUnused`, 4, STORAGE());
        for (const b of [dxStand, dwStand]) if (b) owned.push(b);
        const code = buildModule({ parts: ['common/dispatch.wgsl', 'training/mlp-backward.wgsl'], consts: { IN_DIM: inDim, OUT_DIM: outDim, CHUNK, RELU_MASK: options.reluMask }, weightType: 'f32' });
        const module = device.createShaderModule({ label, code });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: params }, ...bind, dxB ?? { buffer: dxStand! }, { buffer: partial }, dwB ?? { buffer: dwStand! }];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const mode = options.compile ?? 'async';
        const pipelines = await Promise.all(['linear_dx', 'linear_dw_partial', 'linear_dw_reduce'].map((e) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_MLP: WG }, mode)));
        return new LinearBackward(device, { ...options, label }, Boolean(dxB), Boolean(dwB), owned, params, group, pipelines);
      } catch (e) {
        for (const b of owned) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.owned.reduce((a, b) => a + b.size, 0);
  }

  /** Records the backward of the first n samples (one encode per submit: n travels by writeBuffer). */
  encode(encoder: GPUCommandEncoder, n: number): void {
    if (this.destroyed) throw new ConfigError(`${this.opts.label}: used after destroy()`);
    if (!Number.isInteger(n) || n < 0 || n > this.opts.maxSamples) throw new ConfigError(`${this.opts.label}.n: expected an integer in [0, ${this.opts.maxSamples}], got ${n}`);
    const chunks = Math.ceil(n / CHUNK);
    this.device.queue.writeBuffer(this.params, 0, new Uint32Array([n, chunks, 0, 0]));
    const { inDim, outDim } = this.opts;
    const pass = encoder.beginComputePass({ label: this.opts.label });
    pass.setBindGroup(0, this.group);
    if (this.hasDx) dispatch(pass, this.pipelines[0], n * inDim);
    if (this.hasDw) {
      dispatch(pass, this.pipelines[1], chunks * outDim * inDim);
      // With no samples the reduce still runs (over zero chunks): the gradient is 0, not stale.
      dispatch(pass, this.pipelines[2], outDim * inDim);
    }
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.owned) b.destroy();
  }
}

export interface FilmBackwardIO {
  /** [n, dim] pre-FiLM activations */
  h: Slice;
  /** [2 * dim] the frame's FiLM vector [a | b] */
  g: Slice;
  /** [n, dim] dL/dh' in, overwritten with dL/dh */
  dh: Slice;
  /** [2 * dim] dL/dg out, overwritten */
  dg: Slice;
}

export class FilmBackward {
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly dim: number,
    private readonly maxSamples: number,
    private readonly owned: GPUBuffer[],
    private readonly params: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly pipelines: GPUComputePipeline[],
  ) {}

  static async create(device: GPUDevice, options: { dim: number; maxSamples: number; label?: string; compile?: CompileMode }, io: FilmBackwardIO): Promise<FilmBackward> {
    const label = options.label ?? 'r2t.train.filmBackward';
    const { dim, maxSamples } = options;
    checkDims(label, { dim, maxSamples });
    const chunks = Math.ceil(maxSamples / CHUNK);
    const bind = [
      sliceBinding(`${label}.h`, io.h, 4 * maxSamples * dim),
      sliceBinding(`${label}.g`, io.g, 8 * dim),
      sliceBinding(`${label}.dh`, io.dh, 4 * maxSamples * dim),
    ];
    const dgB = sliceBinding(`${label}.dg`, io.dg, 8 * dim);
    return withGpuErrors(device, label, async () => {
      const owned: GPUBuffer[] = [];
      try {
        const params = makeBuffer(device, `${label}.params`, 16, UNIFORM());
        owned.push(params);
        const partial = makeBuffer(device, `${label}.partial`, 8 * chunks * dim, STORAGE());
        owned.push(partial);
        const code = buildModule({ parts: ['common/dispatch.wgsl', 'training/film-backward.wgsl'], consts: { FILM_DIM: dim, CHUNK }, weightType: 'f32' });
        const module = device.createShaderModule({ label, code });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: params }, ...bind, { buffer: partial }, dgB];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const mode = options.compile ?? 'async';
        const pipelines = await Promise.all(['film_partial', 'film_reduce', 'film_dh'].map((e) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_FILM_BW: WG }, mode)));
        return new FilmBackward(device, label, dim, maxSamples, owned, params, group, pipelines);
      } catch (e) {
        for (const b of owned) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.owned.reduce((a, b) => a + b.size, 0);
  }

  encode(encoder: GPUCommandEncoder, n: number): void {
    if (this.destroyed) throw new ConfigError(`${this.label}: used after destroy()`);
    if (!Number.isInteger(n) || n < 0 || n > this.maxSamples) throw new ConfigError(`${this.label}.n: expected an integer in [0, ${this.maxSamples}], got ${n}`);
    const chunks = Math.ceil(n / CHUNK);
    this.device.queue.writeBuffer(this.params, 0, new Uint32Array([n, chunks, 0, 0]));
    const pass = encoder.beginComputePass({ label: this.label });
    pass.setBindGroup(0, this.group);
    dispatch(pass, this.pipelines[0], chunks * this.dim);
    dispatch(pass, this.pipelines[1], 2 * this.dim);
    dispatch(pass, this.pipelines[2], n * this.dim);
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.owned) b.destroy();
  }
}
