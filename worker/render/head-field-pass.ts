/**
 * Head field evaluation for one wavefront pass, recorded inside the wavefront's compute pass.
 * 'fused' (default where the config allows): one invocation per occupied sample, generated
 * straight-line MLP over packed 4x4 weight blocks. 'loop': one invocation per sample slot,
 * scalar loops over the packed weight buffer; the fallback for very wide configs and the
 * straightforward baseline the bench compares against.
 */
import type { FrameBuffers } from './frame-buffers.ts';
import { gridConsts } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM, type BindingKind } from './gpu-util.ts';
import { buildHeadFused } from './head-codegen.ts';
import { buildModule } from './wgsl.ts';

export const FIELD_WORKGROUP = 64;
export type KernelKind = 'fused' | 'loop';

/**
 * Fast mode's extra bindings (shaders/fast/fast-head.wgsl): the fast state the sensitivity goes
 * to (word offset `slotSens`) and the previous frame's FiLM vectors.
 */
export interface FastFieldBindings {
  state: GPUBuffer;
  filmPrev: GPUBuffer;
  slotSens: number;
  /**
   * The colour gate (shaders/fast/fast-head-gated.wgsl): the density half in record(), the
   * colour half in recordColour(); the fast state's words per ray, the colour list's and the
   * geometry features' word offsets.
   */
  gate?: { rayWords: number; slotCol: number; rayGeo: number };
}

export class HeadFieldPass {
  private pipeline!: GPUComputePipeline;
  private colourPipeline: GPUComputePipeline | null = null;
  /** The colour half runs apart, in recordColour() (fast mode's colour gate). */
  readonly gated: boolean;
  readonly ready: Promise<void>;
  private readonly group: GPUBindGroup;
  readonly params: GPUBuffer;
  readonly kind: KernelKind;
  private readonly blocks: GPUBuffer[] = [];
  /** Where the fused kernel keeps its weights ('uniform' banks or one 'storage' array). */
  readonly weightHome: 'uniform' | 'storage' | null = null;
  private destroyed = false;

  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers, want: KernelKind = 'fused', fast?: FastFieldBindings) {
    const head = fb.avatar.config.head;
    const consts = { ...gridConsts(head.grid), ...pick(fb.consts, ['MAX_PASSES', 'SIG_IN', 'EYE_INPUT', 'HID', 'GEO', 'CHID', 'IND', 'SH_DIM', 'COL_IN', 'FILM_OUT', 'W_SIG0', 'W_SIG1', 'W_SIG2', 'W_COL0', 'W_COL1', 'W_IND']) };
    // Weights stay in storage: uniform banks measured no faster in CPU time on SwiftShader
    // (bench/probe-mlp.ts: 229 vs 261 CPU ms); pass device.limits to buildHeadFused to use them.
    const gate = fast?.gate;
    const fused = want === 'fused' ? buildHeadFused(fb.avatar, fb.precision, undefined, fb.samplesPerInvocation, fast !== undefined, gate !== undefined) : null;
    this.kind = fused ? 'fused' : 'loop';
    this.gated = gate !== undefined && fused !== null;
    if (fast && (!fused || fused.home !== 'storage')) throw new Error('HeadFieldPass: fast mode needs the fused kernel with its weights in storage');
    this.params = makeBuffer(device, 'r2t.headField.params', 16, UNIFORM());
    if (fused) {
      const module = device.createShaderModule({
        label: 'r2t.headField.fused',
        code: buildModule({
          parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid-vec.wgsl', 'common/sh.wgsl', 'common/march-types.wgsl', 'fields/head-fused-bindings.wgsl', ...(gate ? [] : (['fields/head-fused.wgsl'] as const)), ...(fast ? (['fast/fast-head-bindings.wgsl', gate ? 'fast/fast-head-gated.wgsl' : 'fast/fast-head.wgsl'] as const) : [])],
          consts: fast ? { ...consts, FAST_SLOT_SENS: fast.slotSens, ...(gate ? { FAST_FR: gate.rayWords, FAST_SLOT_COL: gate.slotCol, FAST_RAY_GEO: gate.rayGeo } : {}) } : consts,
          weightType: fb.precision,
          extra: fused.code,
        }),
      });
      const kinds: BindingKind[] = ['read-only-storage', 'uniform', 'read-only-storage', 'uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'uniform'];
      this.weightHome = fused.home;
      this.blocks = fused.blocks.map((b, i) => makeBuffer(device, `r2t.headField.blocks${i}`, b.byteLength, fused.home === 'uniform' ? UNIFORM() : STORAGE(), b));
      const resources: GPUBuffer[] = [fb.headGrid, fb.headLevels, this.blocks[0], fb.film, fb.samples, fb.rays, fb.alive, fb.ctrl, fb.fieldOut, this.params];
      fused.bankBindings.forEach((binding, i) => {
        kinds[binding] = fused.home === 'uniform' ? 'uniform' : 'read-only-storage';
        resources[binding] = this.blocks[i];
      });
      if (fast) {
        kinds.push('storage', 'uniform');
        resources.push(fast.state, fast.filmPrev);
      }
      const layout = makeLayout(device, 'r2t.headField.fused.bgl', kinds);
      const entry = fast ? (gate ? 'head_density_fast' : 'head_fused_fast') : 'head_fused';
      this.ready = Promise.all([
        makePipeline(device, 'r2t.headField.fused', module, entry, [layout], { WG_FIELD: FIELD_WORKGROUP }, fb.compile),
        gate ? makePipeline(device, 'r2t.headField.colour', module, 'head_colour_fast', [layout], { WG_FIELD: FIELD_WORKGROUP }, fb.compile) : null,
      ]).then(([p, c]) => {
        this.pipeline = p;
        this.colourPipeline = c;
      });
      this.group = makeBindGroup(device, 'r2t.headField.fused.bg', layout, resources);
    } else {
      const module = device.createShaderModule({
        label: 'r2t.headField',
        code: buildModule({ parts: ['common/dispatch.wgsl', 'common/grid-index.wgsl', 'common/grid.wgsl', 'common/sh.wgsl', 'common/march-types.wgsl', 'fields/head.wgsl'], consts, weightType: fb.precision }),
      });
      const layout = makeLayout(device, 'r2t.headField.bgl', ['read-only-storage', 'uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'uniform']);
      this.ready = makePipeline(device, 'r2t.headField.head', module, 'head', [layout], { WG_FIELD: FIELD_WORKGROUP }, fb.compile).then((p) => {
        this.pipeline = p;
      });
      this.group = makeBindGroup(device, 'r2t.headField.bg', layout, [fb.headGrid, fb.headLevels, fb.weights, fb.film, fb.samples, fb.rays, fb.alive, fb.ctrl, fb.fieldOut, this.params]);
    }
  }

  /** Samples one workgroup covers: the wavefront sizes the indirect field dispatch with it. */
  get samplesPerGroup(): number {
    return this.kind === 'fused' ? FIELD_WORKGROUP * this.fb.samplesPerInvocation : FIELD_WORKGROUP;
  }

  get blockBytes(): number {
    return this.blocks.reduce((a, b) => a + b.size, 0);
  }

  setEye(eye: number): void {
    const buf = new ArrayBuffer(16);
    new Float32Array(buf)[0] = eye;
    new Uint32Array(buf)[1] = this.fb.numRays;
    this.device.queue.writeBuffer(this.params, 0, buf);
  }

  /** Records the indirect field dispatch into an open compute pass. */
  record(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    pass.dispatchWorkgroupsIndirect(this.fb.indirect, this.kind === 'fused' ? 32 : 16);
  }

  /** The colour gate's colour half over the listed samples, sized in the loop kernels' indirect slot (unused by the fused path). */
  recordColour(pass: GPUComputePassEncoder): void {
    if (!this.colourPipeline) throw new Error('HeadFieldPass.recordColour: built without the colour gate');
    pass.setPipeline(this.colourPipeline);
    pass.setBindGroup(0, this.group);
    pass.dispatchWorkgroupsIndirect(this.fb.indirect, 16);
  }


  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
    for (const b of this.blocks) b.destroy();
  }
}

export function pick<T>(obj: Record<string, T>, keys: string[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}
