/**
 * The per-frame conditioning on the GPU for training: landmark window -> code -> two FiLM MLPs
 * -> film1, film2 written where HeadNetGpu's forward reads them (shaders/training/
 * condition-train.wgsl), and the backward from HeadNetGpu's dL/dfilm to both MLPs and the
 * landmark grid (LinearBackward with a batch of one, GridScatter). Everything stays on the GPU:
 * no conditioning parameter or gradient crosses to the CPU during training.
 * CPU reference: trainer/nerf/cpu/conditioning.ts.
 */
import type { ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { gridConsts, gridLevelBlock } from '../../../worker/render/frame-buffers.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, writeData, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import type { BufferSlice } from './buffer-slice.ts';
import { GridScatter } from './grid-scatter.ts';
import { LinearBackward } from './mlp-backward.ts';
import type { ParamLayout } from './param-layout.ts';
import { regions } from './regions.ts';

const WG = 64;

export interface ConditionNetIO {
  params: GPUBuffer;
  grads: GPUBuffer;
  /** HeadNetGpu.filmSlice(): film1 at float 0, film2 at float filmStride */
  film: BufferSlice & { filmStride: number };
  /** HeadNetGpu.dFilmSlice() */
  dFilm: BufferSlice & { filmStride: number };
}

export class ConditionNetGpu {
  private destroyed = false;
  private activeLevels = 0;

  private constructor(
    private readonly device: GPUDevice,
    private readonly config: ModelConfig,
    private readonly owned: GPUBuffer[],
    private readonly uniform: GPUBuffer,
    private readonly points: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly fwd: GPUComputePipeline[],
    private readonly sum: GPUComputePipeline,
    private readonly layers: LinearBackward[],
    private readonly scatter: GridScatter,
  ) {}

  static async create(device: GPUDevice, config: ModelConfig, layout: ParamLayout, io: ConditionNetIO, compile: CompileMode = 'async'): Promise<ConditionNetGpu> {
    const label = 'r2t.train.condition';
    const c = config.condition;
    const count = c.window * c.numLandmarks;
    const L = c.grid.levels;
    const C = c.grid.featuresPerLevel;
    const codeLen = count * L * C;
    const hid = c.hiddenDim;
    const filmOut = 2 * config.head.hiddenDim;
    const fs = io.film.filmStride;
    if (io.dFilm.filmStride !== fs || fs < filmOut) throw new ConfigError(`${label}: film slices of stride ${fs}/${io.dFilm.filmStride} cannot hold ${filmOut} values each`);
    const P = (name: string) => layout.get(name).offset;
    const A = regions({ U: 4 * count, CODE: codeLen, H1_0: hid, H1_1: hid, H2_0: hid, H2_1: hid });
    const B1 = regions({ DH2_0: hid, DH2_1: hid, DCODE_0: codeLen, DCODE_1: codeLen });
    const B2 = regions({ DH1_0: hid, DH1_1: hid, DCODE: codeLen });
    const consts = {
      ...gridConsts(c.grid),
      NUM_POINTS: count, CODE_LEN: codeLen, COND_HID: hid, FILM_OUT: filmOut, FILM_STRIDE: fs,
      P_LM: P('encoder_idexp_lm3d.embeddings'),
      P_M1_0: P('mlp_lms_style_1.net.0.weight'), P_M1_1: P('mlp_lms_style_1.net.1.weight'), P_M1_2: P('mlp_lms_style_1.net.2.weight'),
      P_M2_0: P('mlp_lms_style_2.net.0.weight'), P_M2_1: P('mlp_lms_style_2.net.1.weight'), P_M2_2: P('mlp_lms_style_2.net.2.weight'),
      ...Object.fromEntries(Object.entries(A.at).map(([k, v]) => [`A_${k}`, v])),
      ...Object.fromEntries(Object.entries(B1.at).map(([k, v]) => [`B_${k}`, v])),
      ...Object.fromEntries(Object.entries(B2.at).map(([k, v]) => [`B_${k}`, v])),
    };
    return withGpuErrors(device, label, async () => {
      const owned: GPUBuffer[] = [];
      const built: { destroy(): void }[] = [];
      const mk = (name: string, bytes: number, usage: GPUBufferUsageFlags, data?: ArrayBuffer) => {
        const b = makeBuffer(device, `${label}.${name}`, bytes, usage, data);
        owned.push(b);
        return b;
      };
      try {
        const uniform = mk('params', 16, UNIFORM());
        const levels = mk('levels', 16 * L, UNIFORM(), gridLevelBlock(c.grid));
        const points = mk('points', 12 * count, STORAGE());
        const acts = mk('acts', 4 * A.total, STORAGE());
        const back1 = mk('back1', 4 * B1.total, STORAGE());
        const back2 = mk('back2', 4 * B2.total, STORAGE());
        const code = buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-cell.wgsl', 'common/grid-params.wgsl', 'training/condition-train.wgsl'], consts, weightType: 'f32' });
        const module = device.createShaderModule({ label, code });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: uniform }, { buffer: levels }, { buffer: io.params }, { buffer: points }, { buffer: acts }, { buffer: io.film.buffer, offset: io.film.offset, size: io.film.size }, { buffer: back1 }, { buffer: back2 }];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const pipe = (e: string) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_COND: WG }, compile);
        const fwd = await Promise.all(['cf_code', 'cf_layer0', 'cf_layer1', 'cf_layer2'].map(pipe));
        const sum = await pipe('cb_code_sum');
        const a = (r: string, floats: number) => ({ buffer: acts, offset: 4 * A.at[r], size: 4 * floats });
        const b1 = (r: string, floats: number) => ({ buffer: back1, offset: 4 * B1.at[r], size: 4 * floats });
        const b2 = (r: string, floats: number) => ({ buffer: back2, offset: 4 * B2.at[r], size: 4 * floats });
        const slot = (name: string, b: GPUBuffer) => ({ buffer: b, offset: 4 * layout.get(name).offset, size: 4 * layout.get(name).length });
        const dFilm = (k: number) => ({ buffer: io.dFilm.buffer, offset: (io.dFilm.offset ?? 0) + 4 * k * fs, size: 4 * filmOut });
        const layers: LinearBackward[] = [];
        for (const k of [0, 1]) {
          const m = `mlp_lms_style_${k + 1}.net`;
          const mkLayer = async (name: string, inDim: number, outDim: number, reluMask: boolean, p: Parameters<typeof LinearBackward.create>[2]) => {
            const l = await LinearBackward.create(device, { inDim, outDim, maxSamples: 1, reluMask, label: `${label}.${name}${k + 1}`, compile }, p);
            built.push(l);
            layers.push(l);
          };
          await mkLayer('layer2.', hid, filmOut, true, { w: slot(`${m}.2.weight`, io.params), x: a(`H2_${k}`, hid), dy: dFilm(k), dx: b1(`DH2_${k}`, hid), dw: slot(`${m}.2.weight`, io.grads) });
          await mkLayer('layer1.', hid, hid, true, { w: slot(`${m}.1.weight`, io.params), x: a(`H1_${k}`, hid), dy: b1(`DH2_${k}`, hid), dx: b2(`DH1_${k}`, hid), dw: slot(`${m}.1.weight`, io.grads) });
          await mkLayer('layer0.', codeLen, hid, false, { w: slot(`${m}.0.weight`, io.params), x: a('CODE', codeLen), dy: b2(`DH1_${k}`, hid), dx: b1(`DCODE_${k}`, codeLen), dw: slot(`${m}.0.weight`, io.grads) });
        }
        const scatter = await GridScatter.create(device, { grid: c.grid, maxPoints: count, label: `${label}.gridScatter`, compile }, { points: a('U', 4 * count), dOut: b2('DCODE', codeLen), dTable: slot('encoder_idexp_lm3d.embeddings', io.grads) });
        built.push(scatter);
        return new ConditionNetGpu(device, config, owned, uniform, points, group, fwd, sum, layers, scatter);
      } catch (e) {
        for (const b of built) b.destroy();
        for (const b of owned) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.owned.reduce((t, b) => t + b.size, 0) + this.layers.reduce((t, l) => t + l.bytesHeld, 0) + this.scatter.bytesHeld;
  }

  /** The frame's landmark window (window x landmarks x 3, normalised) and the grid levels released. */
  setFrame(points: Float32Array, activeLevels: number): void {
    if (this.destroyed) throw new ConfigError('r2t.train.condition: used after destroy()');
    const c = this.config.condition;
    const count = c.window * c.numLandmarks;
    if (!(points instanceof Float32Array) || points.length !== 3 * count) throw new ConfigError(`condition.points: expected ${3 * count} float32 values (window x landmarks x 3), got ${points?.length}`);
    if (!Number.isInteger(activeLevels) || activeLevels < 1 || activeLevels > c.grid.levels) throw new ConfigError(`activeLevels.condition: expected an integer in [1, ${c.grid.levels}], got ${activeLevels}`);
    writeData(this.device.queue, this.points, points);
    this.device.queue.writeBuffer(this.uniform, 0, new Uint32Array([activeLevels, 0, 0, 0]));
    this.activeLevels = activeLevels;
  }

  /** film1 and film2 of the frame into the head's FiLM slot (record before the head forward). */
  encodeForward(encoder: GPUCommandEncoder): void {
    if (this.destroyed || this.activeLevels === 0) throw new ConfigError('r2t.train.condition: setFrame must come before the forward');
    const c = this.config.condition;
    const count = c.window * c.numLandmarks;
    const widths = [count * c.grid.levels, 2 * c.hiddenDim, 2 * c.hiddenDim, 4 * this.config.head.hiddenDim];
    const pass = encoder.beginComputePass({ label: 'r2t.train.condition.forward' });
    pass.setBindGroup(0, this.group);
    this.fwd.forEach((p, k) => {
      pass.setPipeline(p);
      const [x, y] = splitGroups(Math.min(4096, Math.ceil(widths[k] / WG)));
      pass.dispatchWorkgroups(x, y);
    });
    pass.end();
  }

  /** Gradients of both FiLM MLPs and the landmark grid (overwritten) from the head's dL/dfilm. */
  encodeBackward(encoder: GPUCommandEncoder): void {
    if (this.destroyed || this.activeLevels === 0) throw new ConfigError('r2t.train.condition: setFrame must come before the backward');
    for (const l of this.layers) l.encode(encoder, 1);
    const c = this.config.condition;
    const codeLen = c.window * c.numLandmarks * c.grid.levels * c.grid.featuresPerLevel;
    const pass = encoder.beginComputePass({ label: 'r2t.train.condition.backward' });
    pass.setBindGroup(0, this.group);
    pass.setPipeline(this.sum);
    const [x, y] = splitGroups(Math.min(4096, Math.ceil(codeLen / WG)));
    pass.dispatchWorkgroups(x, y);
    pass.end();
    this.scatter.encode(encoder, c.window * c.numLandmarks, this.activeLevels);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const l of this.layers) l.destroy();
    this.scatter.destroy();
    for (const b of this.owned) b.destroy();
  }
}
