/** Per pixel: the 2-D torso over the background -> bg' (only for avatars with a torso). */
import type { FrameBuffers } from './frame-buffers.ts';
import { gridConsts } from './frame-buffers.ts';
import { pick, type KernelKind } from './head-field-pass.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, writeData, type BindingKind } from './gpu-util.ts';
import { buildTorsoFused, torsoBiases } from './torso-codegen.ts';
import { buildModule, splitGroups } from './wgsl.ts';
import { tensorF32 } from './weights-pack.ts';
import { torsoFrameTail } from './frame-data.ts';
import { TORSO_SHRINK, torsoDensityThreshold, torsoPixels } from '../model/torso.ts';
import { torsoPositionTables } from '../model/torso-folded.ts';
import { TORSO_DENSITY_THRESHOLD } from '../model/weights.ts';

export class TorsoPass {
  private pipeline!: GPUComputePipeline;
  readonly ready: Promise<void>;
  private readonly group: GPUBindGroup;
  private readonly params: GPUBuffer;
  private readonly torsoCode: Float32Array;
  readonly kind: KernelKind;
  private readonly blocks: GPUBuffer[] = [];
  readonly weightHome: 'uniform' | 'storage' | null = null;
  private readonly bias: GPUBuffer | null = null;
  private readonly biasValues: Float32Array | null = null;
  private readonly biasWeights: { wd: Float32Array; wn: Float32Array } | null = null;
  /** Fused path: the pixels the occupancy test keeps (row-major indices) and their count. */
  private readonly pixels: GPUBuffer | null = null;
  /** Pixels the fused torso kernel evaluates (the torso occupancy keeps them). */
  readonly pixelCount: number = 0;
  /** The whole torso list and the length of the list the kernel runs over now (setList). */
  private readonly fullList: Uint32Array | null = null;
  private listCount = 0;
  private destroyed = false;

  /** Whether the fused kernel reads position tables (fast mode; torso-codegen.ts TorsoTables). */
  readonly positionTables: boolean = false;

  /** `positionTables` (fast mode): the fused kernel adds per-row and per-column tables instead of multiplying freq(x). */
  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers, want: KernelKind = 'fused', opts: { positionTables?: boolean } = {}) {
    const t = fb.avatar.config.torso;
    if (!t || !fb.torsoGrid || !fb.torsoLevels || !fb.torsoDensity) throw new Error('TorsoPass needs an avatar with a torso');
    const consts = { ...gridConsts(t.grid), ...pick(fb.consts, ['T_IN', 'T_POS_DEG', 'T_DEF', 'T_HID', 'T_NET_IN', 'W_TD0', 'W_TD1', 'W_TD2', 'W_TN0', 'W_TN1', 'W_TN2']) };
    this.params = makeBuffer(device, 'r2t.torso.params', 32, UNIFORM());
    const { width, height } = fb.avatar.camera;
    const tables = opts.positionTables ? { width, height } : undefined;
    const fused = want === 'fused' ? buildTorsoFused(fb.avatar, fb.precision, undefined, fb.samplesPerInvocation, tables) : null;
    this.kind = fused ? 'fused' : 'loop';
    const kinds: BindingKind[] = ['read-only-storage', 'uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'uniform'];
    if (fused) {
      this.weightHome = fused.home;
      fused.bankBindings.forEach((binding) => (kinds[binding] = fused.home === 'uniform' ? 'uniform' : 'read-only-storage'));
    }
    const layout = makeLayout(device, 'r2t.torso.bgl', kinds);
    const density = tensorF32(fb.avatar, 'density_grid_torso');
    const threshold = torsoDensityThreshold(density, TORSO_DENSITY_THRESHOLD);
    if (fused) {
      const list = torsoPixels(density, t.densityResolution, width, height, threshold);
      this.pixelCount = list.length;
      this.fullList = list;
      this.listCount = list.length;
      this.pixels = makeBuffer(device, 'r2t.torso.pixels', Math.max(4, list.byteLength), STORAGE(), list.length ? list : undefined);
      const module = device.createShaderModule({
        label: 'r2t.torso.fused',
        code: buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-vec.wgsl', 'fields/torso-fused.wgsl'], consts, weightType: fb.precision, extra: fused.code }),
      });
      this.ready = makePipeline(device, 'r2t.torso.fused', module, 'torso_fused', [layout], {}, fb.compile).then((p) => {
        this.pipeline = p;
      });
      this.blocks = fused.blocks.map((b, i) => makeBuffer(device, `r2t.torso.blocks${i}`, b.byteLength, fused.home === 'uniform' ? UNIFORM() : STORAGE(), b));
      this.biasValues = new Float32Array(fused.biasLength);
      this.bias = makeBuffer(device, 'r2t.torso.bias', fused.tbiasLength * 4, STORAGE());
      if (tables) {
        // Row then column tables after the frame biases, each entry padded like the biases.
        const tabs = torsoPositionTables(t, tensorF32(fb.avatar, 'torso_deform_net.net.0.weight'), tensorF32(fb.avatar, 'torso_net.net.0.weight'), width, height);
        const D = t.deformHiddenDim;
        const Nh = t.netHiddenDim;
        const stride = fused.biasLength;
        const packed = new Float32Array(fused.tbiasLength - stride);
        const put = (src: Float32Array, n: number, at: number) => {
          for (let i = 0; i < n; i++) {
            packed.set(src.subarray(i * (D + Nh), i * (D + Nh) + D), at + i * stride);
            packed.set(src.subarray(i * (D + Nh) + D, (i + 1) * (D + Nh)), at + i * stride + 4 * Math.ceil(D / 4));
          }
        };
        put(tabs.row, height, 0);
        put(tabs.col, width, height * stride);
        writeData(device.queue, this.bias, packed, stride * 4);
        this.positionTables = true;
      }
      this.biasWeights = { wd: tensorF32(fb.avatar, 'torso_deform_net.net.0.weight'), wn: tensorF32(fb.avatar, 'torso_net.net.0.weight') };
      const resources: GPUBuffer[] = [fb.torsoGrid, fb.torsoLevels, this.blocks[0], this.pixels, fb.background, this.bias, fb.bgFinal, this.params];
      fused.bankBindings.forEach((binding, i) => (resources[binding] = this.blocks[i]));
      this.group = makeBindGroup(device, 'r2t.torso.fused.bg', layout, resources);
    } else {
      const module = device.createShaderModule({
        label: 'r2t.torso',
        code: buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid.wgsl', 'common/torso-occupancy.wgsl', 'fields/torso.wgsl'], consts, weightType: fb.precision }),
      });
      this.ready = makePipeline(device, 'r2t.torso.torso', module, 'torso', [layout], {}, fb.compile).then((p) => {
        this.pipeline = p;
      });
      this.group = makeBindGroup(device, 'r2t.torso.bg', layout, [fb.torsoGrid, fb.torsoLevels, fb.weights, fb.torsoDensity, fb.background, fb.frameTail, fb.bgFinal, this.params]);
    }
    this.torsoCode = tensorF32(fb.avatar, 'individual_code_torso');
    const buf = new ArrayBuffer(32);
    const u = new Uint32Array(buf);
    const f = new Float32Array(buf);
    u.set([fb.avatar.camera.width, fb.avatar.camera.height, t.densityResolution, this.pixelCount]);
    f.set([threshold, TORSO_SHRINK], 4);
    device.queue.writeBuffer(this.params, 0, buf);
  }

  prepare(pose: Float32Array): void {
    const tail = torsoFrameTail(pose, this.fb.avatar.config, this.torsoCode);
    if (this.bias && this.biasValues && this.biasWeights) {
      torsoBiases(this.fb.avatar, this.biasWeights, tail, this.biasValues);
      writeData(this.device.queue, this.bias, this.biasValues);
    } else {
      writeData(this.device.queue, this.fb.frameTail, tail);
    }
  }

  /** The torso pixels of the fused kernel (row-major indices; empty for the loop kernel). */
  get pixelList(): Uint32Array {
    return this.fullList ?? new Uint32Array(0);
  }

  /**
   * Fast mode (fused kernel only): the next run() evaluates `list` (a subset of the torso
   * pixels, row-major indices) and writes each one's premultiplied torso (rgb * alpha, alpha)
   * to bgFinal instead of bg' over the background; `list` null restores the whole torso list.
   * Queue writes: one list per submit.
   */
  setList(list: Uint32Array | null): void {
    if (this.kind !== 'fused' || !this.pixels || !this.fullList) throw new Error('TorsoPass.setList needs the fused torso kernel');
    const use = list ?? this.fullList;
    if (use.length > this.fullList.length) throw new Error(`TorsoPass.setList: ${use.length} pixels, the torso has ${this.fullList.length}`);
    if (use.length) writeData(this.device.queue, this.pixels, use);
    this.listCount = use.length;
    this.device.queue.writeBuffer(this.params, 12, new Uint32Array([use.length]));
    this.device.queue.writeBuffer(this.params, 24, new Uint32Array([list ? 1 : 0]));
  }

  run(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.torso', timestampWrites });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    const groups = this.kind === 'fused' ? Math.ceil(this.listCount / (64 * this.fb.samplesPerInvocation)) : Math.ceil(this.fb.numRays / 64);
    const [x, y] = splitGroups(groups);
    // An avatar whose torso grid keeps no pixel has nothing to do (bgFinal holds the background).
    if (groups > 0) pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  get blockBytes(): number {
    return this.blocks.reduce((a, b) => a + b.size, 0) + (this.bias?.size ?? 0) + (this.pixels?.size ?? 0);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
    for (const b of this.blocks) b.destroy();
    this.bias?.destroy();
    this.pixels?.destroy();
  }
}
