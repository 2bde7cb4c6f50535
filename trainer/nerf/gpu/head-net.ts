/**
 * The head field over a batch of training samples on the GPU: forward with its activations
 * kept (shaders/training/head-train.wgsl), and the backward to every head parameter, the two
 * FiLM vectors and the hash table, sequenced from the building blocks (LinearBackward,
 * FilmBackward, GridScatter). CPU reference: trainer/nerf/cpu/head-sample.ts, sample by sample.
 */
import { shDim, type ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { gridConsts, gridLevelBlock } from '../../../worker/render/frame-buffers.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { sliceBinding } from './buffer-slice.ts';
import { GridScatter } from './grid-scatter.ts';
import { CHUNK, FilmBackward, LinearBackward } from './mlp-backward.ts';
import type { ParamLayout, ParamSlot } from './param-layout.ts';
import { readF32 } from './readback.ts';
import { align, regions } from './regions.ts';

const WG = 64;
const MAX_GROUPS = 4096;

export interface HeadNetIO {
  /** flat parameters and gradients in `layout` (the backend owns them) */
  params: GPUBuffer;
  grads: GPUBuffer;
  /** vec4f positions in [-1,1]^3 at [0, maxSamples), view directions at [maxSamples, 2 maxSamples) */
  samples: GPUBuffer;
  /** vec4f per sample out: rgb (sigmoid), sigma */
  field: GPUBuffer;
  /** vec4f per sample in: dL/drgb, dL/dsigma (the compositor's backward) */
  dField: GPUBuffer;
}

const HEAD_GROUPS = ['encoder.embeddings', 'sigma_net.net.0.weight', 'sigma_net.net.1.weight', 'sigma_net.net.2.weight', 'color_net.net.0.weight', 'color_net.net.1.weight', 'individual_code'] as const;

export class HeadNetGpu {
  private destroyed = false;
  private frame: { n: number; activeLevels: number } | null = null;

  private constructor(
    private readonly device: GPUDevice,
    private readonly config: ModelConfig,
    private readonly maxSamples: number,
    private readonly filmStride: number,
    private readonly filmOffset: number,
    private readonly owned: GPUBuffer[],
    private readonly uniform: GPUBuffer,
    readonly acts: GPUBuffer,
    private readonly dFilm: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly fwd: GPUComputePipeline[],
    private readonly bwd: Record<'logits' | 'sigmaOut' | 'indPartial' | 'indReduce', GPUComputePipeline>,
    private readonly steps: { color1: LinearBackward; color0: LinearBackward; sigma2: LinearBackward; film2: FilmBackward; sigma1: LinearBackward; film1: FilmBackward; sigma0: LinearBackward; scatter: GridScatter },
  ) {}

  static async create(device: GPUDevice, config: ModelConfig, layout: ParamLayout, maxSamples: number, io: HeadNetIO, compile: CompileMode = 'async'): Promise<HeadNetGpu> {
    const label = 'r2t.train.head';
    if (!Number.isInteger(maxSamples) || maxSamples < 1 || maxSamples > 1 << 22) throw new ConfigError(`${label}.maxSamples: expected an integer in [1, 2^22], got ${maxSamples}`);
    const h = config.head;
    const L = h.grid.levels;
    const C = h.grid.featuresPerLevel;
    const H = h.hiddenDim;
    const IN = L * C + (h.eyeInput ? 1 : 0);
    const SH = shDim(h.shDegree);
    const SOUT = 1 + h.geoFeatDim;
    const CIN = SH + h.geoFeatDim + h.individualDim;
    const CHID = h.colorHiddenDim;
    const N = maxSamples;
    const slot = {} as Record<(typeof HEAD_GROUPS)[number], ParamSlot>;
    for (const g of HEAD_GROUPS) slot[g] = layout.get(g);
    const filmStride = align(2 * H);
    const A = regions({ U: 4 * N, FEAT: N * IN, H1PRE: N * H, H1: N * H, H2PRE: N * H, H2: N * H, SOUT: N * SOUT, CIN: N * CIN, CH: N * CHID, FILM: 2 * filmStride, PART: Math.ceil(N / CHUNK) * Math.max(h.individualDim, 1) });
    const B1 = regions({ DLOG: 3 * N, DCIN: N * CIN, DH2: N * H, DFEAT: N * IN });
    const B2 = regions({ DCH: N * CHID, DSOUT: N * SOUT, DH1: N * H });
    const consts = {
      ...gridConsts(h.grid),
      HIDDEN: H, IN_DIM: IN, SOUT, GEO: h.geoFeatDim, CIN, CHID, SH_DIM: SH, IND: h.individualDim, EYE: h.eyeInput, MAX_N: N, CHUNK, FILM_STRIDE: filmStride,
      P_GRID: slot['encoder.embeddings'].offset, P_S0: slot['sigma_net.net.0.weight'].offset, P_S1: slot['sigma_net.net.1.weight'].offset, P_S2: slot['sigma_net.net.2.weight'].offset,
      P_C0: slot['color_net.net.0.weight'].offset, P_C1: slot['color_net.net.1.weight'].offset, P_IND: slot.individual_code.offset, G_IND: slot.individual_code.offset,
      ...Object.fromEntries(Object.entries(A.at).map(([k, v]) => [`A_${k}`, v])),
      ...Object.fromEntries(Object.entries(B1.at).map(([k, v]) => [`B_${k}`, v])),
      ...Object.fromEntries(Object.entries(B2.at).map(([k, v]) => [`B_${k}`, v])),
    };
    const bind = [
      sliceBinding(`${label}.params`, io.params, 4 * layout.total),
      sliceBinding(`${label}.samples`, io.samples, 32 * N),
    ];
    const fieldB = sliceBinding(`${label}.field`, io.field, 16 * N);
    const dFieldB = sliceBinding(`${label}.dField`, io.dField, 16 * N);
    const gradsB = sliceBinding(`${label}.grads`, io.grads, 4 * layout.total);
    return withGpuErrors(device, label, async () => {
      const owned: GPUBuffer[] = [];
      const mk = (name: string, bytes: number, usage: GPUBufferUsageFlags, data?: ArrayBuffer) => {
        const b = makeBuffer(device, `${label}.${name}`, bytes, usage, data);
        owned.push(b);
        return b;
      };
      const built: { destroy(): void }[] = [];
      try {
        const uniform = mk('params', 16, UNIFORM());
        const levels = mk('levels', 16 * L, UNIFORM(), gridLevelBlock(h.grid));
        const acts = mk('acts', 4 * A.total, STORAGE());
        const back1 = mk('back1', 4 * B1.total, STORAGE());
        const back2 = mk('back2', 4 * B2.total, STORAGE());
        const dFilm = mk('dFilm', 8 * filmStride, STORAGE());
        const code = buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-cell.wgsl', 'common/grid-params.wgsl', 'common/sh.wgsl', 'training/head-train.wgsl'], consts, weightType: 'f32' });
        const module = device.createShaderModule({ label, code });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'read-only-storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: uniform }, { buffer: levels }, ...bind, { buffer: acts }, { buffer: back1 }, { buffer: back2 }, fieldB, dFieldB, gradsB];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const pipe = (e: string) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_HEAD: WG }, compile);
        const fwd = await Promise.all(['hf_features', 'hf_sigma0', 'hf_sigma1', 'hf_sigma2', 'hf_color_in', 'hf_color0', 'hf_output'].map(pipe));
        const [logits, sigmaOut, indPartial, indReduce] = await Promise.all(['hb_logits', 'hb_sigma_out', 'hb_individual_partial', 'hb_individual_reduce'].map(pipe));

        const a = (r: string, floats: number) => ({ buffer: acts, offset: 4 * A.at[r], size: 4 * floats });
        const b1 = (r: string, floats: number) => ({ buffer: back1, offset: 4 * B1.at[r], size: 4 * floats });
        const b2 = (r: string, floats: number) => ({ buffer: back2, offset: 4 * B2.at[r], size: 4 * floats });
        const g = (name: (typeof HEAD_GROUPS)[number]) => ({ buffer: io.grads, offset: 4 * slot[name].offset, size: 4 * Math.max(slot[name].length, 1) });
        const w = (name: (typeof HEAD_GROUPS)[number]) => ({ buffer: io.params, offset: 4 * slot[name].offset, size: 4 * Math.max(slot[name].length, 1) });
        const lin = async (name: string, inDim: number, outDim: number, reluMask: boolean, p: { w: ReturnType<typeof w>; x: ReturnType<typeof a>; dy: ReturnType<typeof a>; dx: ReturnType<typeof a> | null; dw: ReturnType<typeof g> }) => {
          const l = await LinearBackward.create(device, { inDim, outDim, maxSamples: N, reluMask, label: `${label}.${name}`, compile }, p);
          built.push(l);
          return l;
        };
        const color1 = await lin('color1', CHID, 3, true, { w: w('color_net.net.1.weight'), x: a('CH', N * CHID), dy: b1('DLOG', 3 * N), dx: b2('DCH', N * CHID), dw: g('color_net.net.1.weight') });
        const color0 = await lin('color0', CIN, CHID, false, { w: w('color_net.net.0.weight'), x: a('CIN', N * CIN), dy: b2('DCH', N * CHID), dx: b1('DCIN', N * CIN), dw: g('color_net.net.0.weight') });
        const sigma2 = await lin('sigma2', H, SOUT, true, { w: w('sigma_net.net.2.weight'), x: a('H2', N * H), dy: b2('DSOUT', N * SOUT), dx: b1('DH2', N * H), dw: g('sigma_net.net.2.weight') });
        const film2 = await FilmBackward.create(device, { dim: H, maxSamples: N, label: `${label}.film2`, compile }, { h: a('H2PRE', N * H), g: { buffer: acts, offset: 4 * (A.at.FILM + filmStride), size: 8 * H }, dh: b1('DH2', N * H), dg: { buffer: dFilm, offset: 4 * filmStride, size: 8 * H } });
        built.push(film2);
        const sigma1 = await lin('sigma1', H, H, true, { w: w('sigma_net.net.1.weight'), x: a('H1', N * H), dy: b1('DH2', N * H), dx: b2('DH1', N * H), dw: g('sigma_net.net.1.weight') });
        const film1 = await FilmBackward.create(device, { dim: H, maxSamples: N, label: `${label}.film1`, compile }, { h: a('H1PRE', N * H), g: { buffer: acts, offset: 4 * A.at.FILM, size: 8 * H }, dh: b2('DH1', N * H), dg: { buffer: dFilm, offset: 0, size: 8 * H } });
        built.push(film1);
        const sigma0 = await lin('sigma0', IN, H, false, { w: w('sigma_net.net.0.weight'), x: a('FEAT', N * IN), dy: b2('DH1', N * H), dx: b1('DFEAT', N * IN), dw: g('sigma_net.net.0.weight') });
        const scatter = await GridScatter.create(device, { grid: h.grid, maxPoints: N, doutStride: IN, doutOffset: 0, label: `${label}.gridScatter`, compile }, { points: a('U', 4 * N), dOut: b1('DFEAT', N * IN), dTable: g('encoder.embeddings') });
        built.push(scatter);
        return new HeadNetGpu(device, config, N, filmStride, A.at.FILM, owned, uniform, acts, dFilm, group, fwd, { logits, sigmaOut, indPartial, indReduce }, { color1, color0, sigma2, film2, sigma1, film1, sigma0, scatter });
      } catch (e) {
        for (const b of built) b.destroy();
        for (const b of owned) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    const s = this.steps;
    return this.owned.reduce((t, b) => t + b.size, 0) + [s.color1, s.color0, s.sigma2, s.film2, s.sigma1, s.film1, s.sigma0, s.scatter].reduce((t, x) => t + x.bytesHeld, 0);
  }

  /**
   * Sets the batch for the next forward/backward: n samples (already in io.samples), the frame's
   * eye value and FiLM vectors (2H each, [a | b]), and the grid levels released so far.
   */
  setFrame(n: number, eye: number, activeLevels: number, film1: Float32Array, film2: Float32Array): void {
    const h = this.config.head;
    for (const [name, f] of [['film1', film1], ['film2', film2]] as const) {
      if (f.length !== 2 * h.hiddenDim) throw new ConfigError(`r2t.train.head.${name}: expected ${2 * h.hiddenDim} values, got ${f.length}`);
    }
    this.setBatch(n, eye, activeLevels);
    this.device.queue.writeBuffer(this.acts, 4 * this.filmOffset, film1 as Float32Array<ArrayBuffer>);
    this.device.queue.writeBuffer(this.acts, 4 * (this.filmOffset + this.filmStride), film2 as Float32Array<ArrayBuffer>);
  }

  /** As setFrame, for FiLM vectors a GPU stage writes into filmSlice() itself (ConditionNetGpu). */
  setBatch(n: number, eye: number, activeLevels: number): void {
    if (this.destroyed) throw new ConfigError('r2t.train.head: used after destroy()');
    const h = this.config.head;
    if (!Number.isInteger(n) || n < 0 || n > this.maxSamples) throw new ConfigError(`r2t.train.head.n: expected an integer in [0, ${this.maxSamples}], got ${n}`);
    if (!Number.isInteger(activeLevels) || activeLevels < 1 || activeLevels > h.grid.levels) throw new ConfigError(`activeLevels.head: expected an integer in [1, ${h.grid.levels}], got ${activeLevels}`);
    if (!Number.isFinite(eye)) throw new ConfigError(`r2t.train.head.eye: expected a finite value, got ${eye}`);
    const u = new ArrayBuffer(16);
    new Uint32Array(u).set([n, 0, activeLevels, Math.ceil(n / CHUNK)]);
    new Float32Array(u)[1] = eye;
    this.device.queue.writeBuffer(this.uniform, 0, u);
    this.frame = { n, activeLevels };
  }

  /** Where the forward reads the FiLM vectors: film1 [a | b] at float 0, film2 at filmStride. */
  filmSlice(): { buffer: GPUBuffer; offset: number; size: number; filmStride: number } {
    return { buffer: this.acts, offset: 4 * this.filmOffset, size: 8 * this.filmStride, filmStride: this.filmStride };
  }

  /** Where the backward leaves dL/dfilm1 (float 0) and dL/dfilm2 (float filmStride). */
  dFilmSlice(): { buffer: GPUBuffer; offset: number; size: number; filmStride: number } {
    return { buffer: this.dFilm, offset: 0, size: 8 * this.filmStride, filmStride: this.filmStride };
  }

  private dispatch(pass: GPUComputePassEncoder, p: GPUComputePipeline, items: number): void {
    if (items === 0) return;
    pass.setPipeline(p);
    const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(items / WG)));
    pass.dispatchWorkgroups(x, y);
  }

  private current(): { n: number; activeLevels: number } {
    if (this.destroyed) throw new ConfigError('r2t.train.head: used after destroy()');
    if (!this.frame) throw new ConfigError('r2t.train.head: setFrame must come before the forward');
    return this.frame;
  }

  /** Field (rgb, sigma) of the n samples into io.field, activations kept for the backward. */
  encodeForward(encoder: GPUCommandEncoder): void {
    const { n } = this.current();
    const h = this.config.head;
    const H = h.hiddenDim;
    const pass = encoder.beginComputePass({ label: 'r2t.train.head.forward' });
    pass.setBindGroup(0, this.group);
    const widths = [h.grid.levels, H, H, 1 + h.geoFeatDim, 1, h.colorHiddenDim, 1];
    this.fwd.forEach((p, k) => this.dispatch(pass, p, n * widths[k]));
    pass.end();
  }

  /**
   * Gradients of every head parameter group (overwritten in io.grads) and of the FiLM vectors
   * (readFilmGrads) from io.dField, for the batch of the last forward. Record it in a command
   * buffer of its own: its steps pass their sizes by queue.writeBuffer.
   */
  encodeBackward(encoder: GPUCommandEncoder): void {
    const { n, activeLevels } = this.current();
    const h = this.config.head;
    const s = this.steps;
    let pass = encoder.beginComputePass({ label: 'r2t.train.head.backward' });
    pass.setBindGroup(0, this.group);
    this.dispatch(pass, this.bwd.logits, n);
    pass.end();
    s.color1.encode(encoder, n);
    s.color0.encode(encoder, n);
    pass = encoder.beginComputePass({ label: 'r2t.train.head.backward' });
    pass.setBindGroup(0, this.group);
    this.dispatch(pass, this.bwd.sigmaOut, n * (1 + h.geoFeatDim));
    if (h.individualDim > 0) {
      this.dispatch(pass, this.bwd.indPartial, Math.ceil(n / CHUNK) * h.individualDim);
      this.dispatch(pass, this.bwd.indReduce, h.individualDim);
    }
    pass.end();
    s.sigma2.encode(encoder, n);
    s.film2.encode(encoder, n);
    s.sigma1.encode(encoder, n);
    s.film1.encode(encoder, n);
    s.sigma0.encode(encoder, n);
    s.scatter.encode(encoder, n, activeLevels);
  }

  /** dL/d film1 and dL/d film2 (2H each) of the last backward. */
  async readFilmGrads(): Promise<[Float32Array, Float32Array]> {
    const H = this.config.head.hiddenDim;
    const all = await readF32(this.device, this.dFilm, 2 * this.filmStride);
    return [all.slice(0, 2 * H), all.slice(this.filmStride, this.filmStride + 2 * H)];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const s = this.steps;
    for (const x of [s.color1, s.color0, s.sigma2, s.film2, s.sigma1, s.film1, s.sigma0, s.scatter]) x.destroy();
    for (const b of this.owned) b.destroy();
  }
}
