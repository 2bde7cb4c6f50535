/**
 * The grid-encoding backward on the GPU: d loss / d features of N points -> d loss / d table,
 * through a 64-bit fixed-point integer-atomic scatter (shaders/training/grid-scatter.wgsl says
 * why and how the scale is chosen). Deterministic: the same inputs give bit-identical
 * gradients in any invocation order. CPU reference: trainer/nerf/cpu/grid-backward.ts.
 */
import { validateGridConfig, type GridConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { gridConsts, gridLevelBlock } from '../../../worker/render/frame-buffers.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { sliceBinding, type BufferSlice } from './buffer-slice.ts';
import { readBuffer } from './readback.ts';

const WG = 64;
/**
 * Workgroups per dispatch at most; the kernels loop over the rest (grid-stride). Keeps every
 * dispatch far below the sizes that abort SwiftShader, and is enough to fill a large GPU.
 */
const MAX_GROUPS = 4096;

export interface GridScatterBuffers {
  /** vec4f per point: u in xyz (inside [0,1] to contribute), maxPoints entries at least. */
  points: GPUBuffer | BufferSlice;
  /** f32, row p at p * doutStride + doutOffset: levels * featuresPerLevel gradients, level-major. */
  dOut: GPUBuffer | BufferSlice;
  /** f32, the table's layout (rows * featuresPerLevel): overwritten with d loss / d table. */
  dTable: GPUBuffer | BufferSlice;
}

export interface GridScatterOptions {
  grid: GridConfig;
  /** Points one encode may scatter; bounds the dispatch and the buffers checked. */
  maxPoints: number;
  /** Floats between consecutive points' rows of dOut (default levels * featuresPerLevel). */
  doutStride?: number;
  /** Float offset of the grid gradients within a dOut row (default 0). */
  doutOffset?: number;
  compile?: CompileMode;
  label?: string;
  /**
   * 'fixed64' (default): deterministic 64-bit fixed point. 'cas-f32': float32 adds by
   * compare-and-swap, order-dependent; kept for the bench's comparison.
   */
  accumulate?: ScatterAccumulate;
}

export type ScatterAccumulate = 'fixed64' | 'cas-f32';

export class GridScatter {
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly options: Required<Omit<GridScatterOptions, 'label' | 'compile'>> & { label: string },
    private readonly params: GPUBuffer,
    private readonly levels: GPUBuffer,
    private readonly acc: GPUBuffer,
    private readonly stats: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly pipelines: { absmax: GPUComputePipeline; add: GPUComputePipeline; resolve: GPUComputePipeline },
  ) {}

  static async create(device: GPUDevice, opts: GridScatterOptions, buffers: GridScatterBuffers): Promise<GridScatter> {
    const label = opts.label ?? 'r2t.train.gridScatter';
    validateGridConfig(`${label}.grid`, opts.grid);
    const g = opts.grid;
    const width = g.levels * g.featuresPerLevel;
    const stride = opts.doutStride ?? width;
    const offset = opts.doutOffset ?? 0;
    const entries = g.offsets[g.levels] * g.featuresPerLevel;
    if (!Number.isInteger(opts.maxPoints) || opts.maxPoints < 1 || opts.maxPoints > 2 ** 28) {
      throw new ConfigError(`${label}.maxPoints: expected an integer in [1, 2^28], got ${opts.maxPoints}`);
    }
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(stride) || offset + width > stride) {
      throw new ConfigError(`${label}.doutStride/doutOffset: ${width} grid gradients at offset ${offset} do not fit a row of ${stride} floats`);
    }
    const bindings = {
      points: sliceBinding(`${label}.points`, buffers.points, 16 * opts.maxPoints),
      dOut: sliceBinding(`${label}.dOut`, buffers.dOut, 4 * ((opts.maxPoints - 1) * stride + offset + width)),
      dTable: sliceBinding(`${label}.dTable`, buffers.dTable, 4 * entries),
    };

    // Validation errors (a shader the driver rejects, a bad binding) would otherwise only reach
    // the console, leaving a gradient of zeros: turn them into exceptions here.
    return withGpuErrors(device, label, () => GridScatter.build(device, { grid: g, maxPoints: opts.maxPoints, doutStride: stride, doutOffset: offset, label, accumulate: opts.accumulate ?? 'fixed64' }, bindings, opts.compile ?? 'async'));
  }

  private static async build(device: GPUDevice, o: GridScatter['options'], b: Record<keyof GridScatterBuffers, GPUBufferBinding>, mode: CompileMode): Promise<GridScatter> {
    const { grid: g, label } = o;
    const entries = g.offsets[g.levels] * g.featuresPerLevel;
    const code = buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-cell.wgsl', 'training/grid-scatter.wgsl'], consts: gridConsts(g), weightType: 'f32' });
    const module = device.createShaderModule({ label, code });
    const layout = makeLayout(device, `${label}.bgl`, ['uniform', 'uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage']);
    const params = makeBuffer(device, `${label}.params`, 32, UNIFORM());
    const levels = makeBuffer(device, `${label}.levels`, 16 * g.levels, UNIFORM(), gridLevelBlock(g));
    const acc = makeBuffer(device, `${label}.acc`, 8 * entries, STORAGE());
    const stats = makeBuffer(device, `${label}.stats`, 8, STORAGE());
    const owned = [params, levels, acc, stats];
    try {
      const resources: GPUBufferBinding[] = [{ buffer: params }, { buffer: levels }, b.points, b.dOut, { buffer: acc }, { buffer: stats }, b.dTable];
      const group = device.createBindGroup({ label: `${label}.bg`, layout, entries: resources.map((resource, binding) => ({ binding, resource })) });
      const make = (entry: string) => makePipeline(device, `${label}.${entry}`, module, entry, [layout], { WG_SCATTER: WG }, mode);
      const cas = o.accumulate === 'cas-f32';
      const [absmax, add, resolve] = await Promise.all([make('scatter_absmax'), make(cas ? 'scatter_add_cas' : 'scatter_add'), make(cas ? 'scatter_resolve_cas' : 'scatter_resolve')]);
      return new GridScatter(device, o, params, levels, acc, stats, group, { absmax, add, resolve });
    } catch (e) {
      for (const b of owned) b.destroy();
      throw e;
    }
  }

  /** GPU memory this scatter holds itself: the 8-byte accumulators per table entry dominate. */
  get bytesHeld(): number {
    return this.params.size + this.levels.size + this.acc.size + this.stats.size;
  }

  /**
   * Records the scatter of the first numPoints points into `encoder`; levels from activeLevels
   * on (not yet released by progressive optimisation) get no gradient. The point count travels
   * by queue.writeBuffer, which lands before the next submit: record at most one scatter per
   * submitted command buffer.
   */
  encode(encoder: GPUCommandEncoder, numPoints: number, activeLevels = this.options.grid.levels): void {
    if (this.destroyed) throw new ConfigError(`${this.options.label}: used after destroy()`);
    const { maxPoints, grid, doutStride, doutOffset } = this.options;
    if (!Number.isInteger(numPoints) || numPoints < 0 || numPoints > maxPoints) {
      throw new ConfigError(`${this.options.label}.numPoints: expected an integer in [0, ${maxPoints}], got ${numPoints}`);
    }
    if (!Number.isInteger(activeLevels) || activeLevels < 1 || activeLevels > grid.levels) {
      throw new ConfigError(`${this.options.label}.activeLevels: expected an integer in [1, ${grid.levels}], got ${activeLevels}`);
    }
    const entries = grid.offsets[grid.levels] * grid.featuresPerLevel;
    const p = new Uint32Array([numPoints, doutStride, doutOffset, entries, Math.ceil(Math.log2(Math.max(numPoints, 1))), activeLevels, 0, 0]);
    this.device.queue.writeBuffer(this.params, 0, p);
    encoder.clearBuffer(this.acc);
    encoder.clearBuffer(this.stats);
    const pass = encoder.beginComputePass({ label: this.options.label });
    pass.setBindGroup(0, this.group);
    const items = splitGroups(Math.min(MAX_GROUPS, Math.ceil((numPoints * grid.levels) / WG)));
    if (numPoints > 0) {
      pass.setPipeline(this.pipelines.absmax);
      pass.dispatchWorkgroups(items[0], items[1]);
      pass.setPipeline(this.pipelines.add);
      pass.dispatchWorkgroups(items[0], items[1]);
    }
    // Resolve even with no points: the gradient is then exactly zero, not last step's.
    const out = splitGroups(Math.min(MAX_GROUPS, Math.ceil(entries / WG)));
    pass.setPipeline(this.pipelines.resolve);
    pass.dispatchWorkgroups(out[0], out[1]);
    pass.end();
  }

  /**
   * Reads back max|dOut| and the fixed-point exponent S of the last scatter (diagnostics and
   * the bench: the quantum of a contribution is 2^-S).
   */
  async readStats(): Promise<{ maxAbs: number; shift: number }> {
    const words = await readBuffer(this.device, this.stats, 8);
    return { maxAbs: new Float32Array(words, 0, 1)[0], shift: new Int32Array(words, 4, 1)[0] };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.params, this.levels, this.acc, this.stats]) b.destroy();
  }
}
