/**
 * The torso net over a batch of training pixels on the GPU: forward with its activations kept
 * (shaders/training/torso-train.wgsl), and the backward to the torso net, the 2-D grid table
 * (GridScatter), the deform net through the grid's input gradient, and the torso code,
 * sequenced from the building blocks (LinearBackward, GridScatter). CPU reference:
 * trainer/nerf/cpu/torso-sample.ts, pixel by pixel.
 *
 * The frame's pose is data: the host encodes it once per frame (setFrame) as the renderer does;
 * the pixel positions' frequency encoding runs on the GPU.
 */
import { freqEncodedDim, torsoInputDim, type ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { freqEncode } from '../../../worker/model/freq.ts';
import { poseInput } from '../../../worker/model/poses.ts';
import { gridConsts, gridLevelBlock } from '../../../worker/render/frame-buffers.ts';
import { makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, type CompileMode } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { sliceBinding } from './buffer-slice.ts';
import { GridScatter } from './grid-scatter.ts';
import { CHUNK, LinearBackward, type LinearBackwardIO } from './mlp-backward.ts';
import type { ParamLayout, ParamSlot } from './param-layout.ts';
import { regions } from './regions.ts';

const WG = 64;
const MAX_GROUPS = 4096;

export const TORSO_GROUPS = [
  'torso_encoder.embeddings',
  'torso_deform_net.net.0.weight',
  'torso_deform_net.net.1.weight',
  'torso_deform_net.net.2.weight',
  'torso_net.net.0.weight',
  'torso_net.net.1.weight',
  'torso_net.net.2.weight',
  'individual_code_torso',
] as const;

/** Widths of the torso's layers (model-spec §7). */
function dims(config: ModelConfig) {
  const t = config.torso;
  if (!t) throw new ConfigError('r2t.train.torso: the model config has no torso');
  const TIN = torsoInputDim(t);
  const GW = t.grid.levels * t.grid.featuresPerLevel;
  return { t, TIN, GW, NETW: GW + TIN, DEF: t.deformHiddenDim, HID: t.netHiddenDim, IND: t.individualDim, POSE: freqEncodedDim(6, t.poseDegree) };
}

/** Per-pixel float counts of the activation and the two backward buffers (regions below). */
function perRay(config: ModelConfig) {
  const { TIN, NETW, DEF, HID, IND } = dims(config);
  return {
    acts: { U: 4, INPUT: TIN, D1: DEF, D2: DEF, NETIN: NETW, N1: HID, N2: HID, PART: IND / CHUNK },
    back1: { DO: 4, DN1: HID, DDX: 2, DD1: DEF },
    back2: { DN2: HID, DNETIN: NETW, DD2: DEF, DINPUT: TIN },
  };
}

/**
 * Bytes per pixel of the largest per-batch buffer the torso step allocates (activations, each
 * backward buffer, the weight-gradient partials of its widest layer): bounds a sub-batch.
 */
export function torsoBytesPerRay(config: ModelConfig): number {
  const { TIN, NETW, DEF, HID } = dims(config);
  const p = perRay(config);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const widest = Math.max(DEF * TIN, DEF * DEF, 2 * DEF, HID * NETW, HID * HID, 4 * HID) / CHUNK;
  return 4 * Math.max(sum(p.acts), sum(p.back1), sum(p.back2), widest, 4);
}

/** The frame's encoded pose (freq(pose6)), as worker/model/torso.ts setPose. */
export function torsoPoseEncoding(config: ModelConfig, pose: ArrayLike<number>): Float32Array {
  const { t, POSE } = dims(config);
  if (pose.length !== 16) throw new ConfigError(`torsoForward.pose: expected 16 values, got ${pose.length}`);
  const pose6 = new Float32Array(6);
  poseInput(pose, pose6);
  const out = new Float32Array(POSE);
  freqEncode(pose6, 6, t.poseDegree, out, 0);
  return out;
}

export interface TorsoNetIO {
  /** flat torso parameters and gradients in `layout` (the backend owns them) */
  params: GPUBuffer;
  grads: GPUBuffer;
  /** vec2f (qRow, qCol) per pixel */
  coords: GPUBuffer;
  /** vec4f per pixel out: alpha, r, g, b (sigmoid outputs) */
  rayOut: GPUBuffer;
  /** vec4f per pixel in: dL/dalpha, dL/drgb */
  dRay: GPUBuffer;
}

type Steps = Record<'net2' | 'net1' | 'net0' | 'deform2' | 'deform1' | 'deform0', LinearBackward> & { scatter: GridScatter };

export class TorsoNetGpu {
  private destroyed = false;
  private frame: { n: number; activeLevels: number } | null = null;

  private constructor(
    private readonly device: GPUDevice,
    private readonly config: ModelConfig,
    readonly maxRays: number,
    private readonly frameOffset: number,
    private readonly owned: GPUBuffer[],
    private readonly uniform: GPUBuffer,
    private readonly acts: GPUBuffer,
    private readonly group: GPUBindGroup,
    private readonly fwd: GPUComputePipeline[],
    private readonly bwd: Record<'logits' | 'gridInput' | 'indPartial' | 'indReduce', GPUComputePipeline>,
    private readonly steps: Steps,
  ) {}

  static async create(device: GPUDevice, config: ModelConfig, layout: ParamLayout, maxRays: number, io: TorsoNetIO, compile: CompileMode = 'async'): Promise<TorsoNetGpu> {
    const label = 'r2t.train.torso';
    if (!Number.isInteger(maxRays) || maxRays < 1 || maxRays > 1 << 22) throw new ConfigError(`${label}.maxRays: expected an integer in [1, 2^22], got ${maxRays}`);
    const { t, TIN, NETW, DEF, HID, IND, POSE } = dims(config);
    const N = maxRays;
    const slot = {} as Record<(typeof TORSO_GROUPS)[number], ParamSlot>;
    for (const g of TORSO_GROUPS) slot[g] = layout.get(g);
    const per = perRay(config);
    const scale = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'PART' ? Math.ceil(N / CHUNK) * Math.max(IND, 1) : N * v]));
    const A = regions({ ...scale(per.acts), FRAME: POSE });
    const B1 = regions(scale(per.back1));
    const B2 = regions(scale(per.back2));
    const consts = {
      ...gridConsts(t.grid),
      TIN, NETW, DEF, HID, IND, POS_DEG: t.positionDegree, CHUNK,
      P_GRID: slot['torso_encoder.embeddings'].offset, P_D0: slot['torso_deform_net.net.0.weight'].offset, P_D1: slot['torso_deform_net.net.1.weight'].offset,
      P_D2: slot['torso_deform_net.net.2.weight'].offset, P_N0: slot['torso_net.net.0.weight'].offset, P_N1: slot['torso_net.net.1.weight'].offset,
      P_N2: slot['torso_net.net.2.weight'].offset, P_IND: slot.individual_code_torso.offset, G_IND: slot.individual_code_torso.offset,
      ...Object.fromEntries(Object.entries(A.at).map(([k, v]) => [`A_${k}`, v])),
      ...Object.fromEntries(Object.entries(B1.at).map(([k, v]) => [`B_${k}`, v])),
      ...Object.fromEntries(Object.entries(B2.at).map(([k, v]) => [`B_${k}`, v])),
    };
    const paramsB = sliceBinding(`${label}.params`, io.params, 4 * layout.total);
    const coordsB = sliceBinding(`${label}.coords`, io.coords, 8 * N);
    const outB = sliceBinding(`${label}.rayOut`, io.rayOut, 16 * N);
    const dRayB = sliceBinding(`${label}.dRay`, io.dRay, 16 * N);
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
        const levels = mk('levels', 16 * t.grid.levels, UNIFORM(), gridLevelBlock(t.grid));
        const acts = mk('acts', 4 * A.total, STORAGE());
        const back1 = mk('back1', 4 * B1.total, STORAGE());
        const back2 = mk('back2', 4 * B2.total, STORAGE());
        const code = buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-cell.wgsl', 'common/grid-params.wgsl', 'training/torso-train.wgsl'], consts, weightType: 'f32' });
        const module = device.createShaderModule({ label, code });
        const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'read-only-storage', 'storage']);
        const resources: GPUBufferBinding[] = [{ buffer: uniform }, { buffer: levels }, paramsB, coordsB, { buffer: acts }, { buffer: back1 }, { buffer: back2 }, outB, dRayB, gradsB];
        const group = device.createBindGroup({ label: `${label}.bg`, layout: bgl, entries: resources.map((resource, binding) => ({ binding, resource })) });
        const pipe = (e: string) => makePipeline(device, `${label}.${e}`, module, e, [bgl], { WG_TORSO_TRAIN: WG }, compile);
        const fwd = await Promise.all(['tf_input', 'tf_deform0', 'tf_deform1', 'tf_deform2', 'tf_grid', 'tf_net0', 'tf_net1', 'tf_output'].map(pipe));
        const [logits, gridInput, indPartial, indReduce] = await Promise.all(['tb_logits', 'tb_grid_input', 'tb_individual_partial', 'tb_individual_reduce'].map(pipe));

        const a = (r: string, floats: number) => ({ buffer: acts, offset: 4 * A.at[r], size: 4 * floats });
        const b1 = (r: string, floats: number) => ({ buffer: back1, offset: 4 * B1.at[r], size: 4 * floats });
        const b2 = (r: string, floats: number) => ({ buffer: back2, offset: 4 * B2.at[r], size: 4 * floats });
        const g = (name: (typeof TORSO_GROUPS)[number]) => ({ buffer: io.grads, offset: 4 * slot[name].offset, size: 4 * Math.max(slot[name].length, 1) });
        const w = (name: (typeof TORSO_GROUPS)[number]) => ({ buffer: io.params, offset: 4 * slot[name].offset, size: 4 * Math.max(slot[name].length, 1) });
        const lin = async (name: string, inDim: number, outDim: number, reluMask: boolean, p: LinearBackwardIO) => {
          const l = await LinearBackward.create(device, { inDim, outDim, maxSamples: N, reluMask, label: `${label}.${name}`, compile }, p);
          built.push(l);
          return l;
        };
        // Gradients alternate between back1 and back2 layer by layer (a dispatch may not read
        // and write one buffer); back2 keeps dL/d(net input) until the torso code's reduce.
        const net2 = await lin('net2', HID, 4, true, { w: w('torso_net.net.2.weight'), x: a('N2', N * HID), dy: b1('DO', 4 * N), dx: b2('DN2', N * HID), dw: g('torso_net.net.2.weight') });
        const net1 = await lin('net1', HID, HID, true, { w: w('torso_net.net.1.weight'), x: a('N1', N * HID), dy: b2('DN2', N * HID), dx: b1('DN1', N * HID), dw: g('torso_net.net.1.weight') });
        const net0 = await lin('net0', NETW, HID, false, { w: w('torso_net.net.0.weight'), x: a('NETIN', N * NETW), dy: b1('DN1', N * HID), dx: b2('DNETIN', N * NETW), dw: g('torso_net.net.0.weight') });
        const scatter = await GridScatter.create(device, { grid: t.grid, maxPoints: N, doutStride: NETW, doutOffset: 0, label: `${label}.gridScatter`, compile }, { points: a('U', 4 * N), dOut: b2('DNETIN', N * NETW), dTable: g('torso_encoder.embeddings') });
        built.push(scatter);
        const deform2 = await lin('deform2', DEF, 2, true, { w: w('torso_deform_net.net.2.weight'), x: a('D2', N * DEF), dy: b1('DDX', 2 * N), dx: b2('DD2', N * DEF), dw: g('torso_deform_net.net.2.weight') });
        const deform1 = await lin('deform1', DEF, DEF, true, { w: w('torso_deform_net.net.1.weight'), x: a('D1', N * DEF), dy: b2('DD2', N * DEF), dx: b1('DD1', N * DEF), dw: g('torso_deform_net.net.1.weight') });
        const deform0 = await lin('deform0', TIN, DEF, false, { w: w('torso_deform_net.net.0.weight'), x: a('INPUT', N * TIN), dy: b1('DD1', N * DEF), dx: b2('DINPUT', N * TIN), dw: g('torso_deform_net.net.0.weight') });
        const steps: Steps = { net2, net1, net0, scatter, deform2, deform1, deform0 };
        return new TorsoNetGpu(device, config, N, A.at.FRAME, owned, uniform, acts, group, fwd, { logits, gridInput, indPartial, indReduce }, steps);
      } catch (e) {
        for (const b of built) b.destroy();
        for (const b of owned) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.owned.reduce((t, b) => t + b.size, 0) + Object.values(this.steps).reduce((t, x) => t + x.bytesHeld, 0);
  }

  /** The batch of the next forward/backward: n pixels (already in io.coords), the frame's pose and the levels released so far. */
  setFrame(n: number, pose: ArrayLike<number>, activeLevels: number): void {
    if (this.destroyed) throw new ConfigError('r2t.train.torso: used after destroy()');
    const levels = this.config.torso!.grid.levels;
    if (!Number.isInteger(n) || n < 0 || n > this.maxRays) throw new ConfigError(`r2t.train.torso.n: expected an integer in [0, ${this.maxRays}], got ${n}`);
    if (!Number.isInteger(activeLevels) || activeLevels < 1 || activeLevels > levels) throw new ConfigError(`activeLevels.torso: expected an integer in [1, ${levels}], got ${activeLevels}`);
    const enc = torsoPoseEncoding(this.config, pose);
    this.device.queue.writeBuffer(this.uniform, 0, new Uint32Array([n, activeLevels, Math.ceil(n / CHUNK), 0]));
    this.device.queue.writeBuffer(this.acts, 4 * this.frameOffset, enc as Float32Array<ArrayBuffer>);
    this.frame = { n, activeLevels };
  }

  private current(): { n: number; activeLevels: number } {
    if (this.destroyed) throw new ConfigError('r2t.train.torso: used after destroy()');
    if (!this.frame) throw new ConfigError('r2t.train.torso: setFrame must come before the forward');
    return this.frame;
  }

  private dispatch(pass: GPUComputePassEncoder, p: GPUComputePipeline, items: number): void {
    if (items === 0) return;
    pass.setPipeline(p);
    const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(items / WG)));
    pass.dispatchWorkgroups(x, y);
  }

  /** (alpha, r, g, b) of the n pixels into io.rayOut, activations kept for the backward. */
  encodeForward(encoder: GPUCommandEncoder): void {
    const { n } = this.current();
    const { TIN, DEF, HID, t } = dims(this.config);
    const pass = encoder.beginComputePass({ label: 'r2t.train.torso.forward' });
    pass.setBindGroup(0, this.group);
    const widths = [TIN, DEF, DEF, 1, t.grid.levels, HID, HID, 1];
    this.fwd.forEach((p, k) => this.dispatch(pass, p, n * widths[k]));
    pass.end();
  }

  /**
   * Gradients of every torso group (overwritten in io.grads) from io.dRay, for the batch of the
   * last forward. Record it in a command buffer of its own: its steps pass their sizes by
   * queue.writeBuffer.
   */
  encodeBackward(encoder: GPUCommandEncoder): void {
    const { n, activeLevels } = this.current();
    const { IND } = dims(this.config);
    const s = this.steps;
    let pass = encoder.beginComputePass({ label: 'r2t.train.torso.backward' });
    pass.setBindGroup(0, this.group);
    this.dispatch(pass, this.bwd.logits, n);
    pass.end();
    s.net2.encode(encoder, n);
    s.net1.encode(encoder, n);
    s.net0.encode(encoder, n);
    s.scatter.encode(encoder, n, activeLevels);
    pass = encoder.beginComputePass({ label: 'r2t.train.torso.backward' });
    pass.setBindGroup(0, this.group);
    this.dispatch(pass, this.bwd.gridInput, n);
    pass.end();
    s.deform2.encode(encoder, n);
    s.deform1.encode(encoder, n);
    s.deform0.encode(encoder, n);
    if (IND > 0) {
      pass = encoder.beginComputePass({ label: 'r2t.train.torso.backward' });
      pass.setBindGroup(0, this.group);
      this.dispatch(pass, this.bwd.indPartial, Math.ceil(n / CHUNK) * IND);
      // With no pixels the reduce still runs (over zero chunks): the gradient is 0, not stale.
      this.dispatch(pass, this.bwd.indReduce, IND);
      pass.end();
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const x of Object.values(this.steps)) x.destroy();
    for (const b of this.owned) b.destroy();
  }
}
