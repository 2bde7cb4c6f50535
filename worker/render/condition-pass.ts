/**
 * Once per frame: landmark window -> code c (grid encoding, optional lip EMA) -> the two
 * conditioning MLPs -> FiLM vectors in `film` (film1 then film2, each [a | b]).
 */
import type { FrameBuffers } from './frame-buffers.ts';
import { gridConsts } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM } from './gpu-util.ts';
import { buildModule } from './wgsl.ts';

export type ConditionMode = 'points' | 'code' | 'film';

export class ConditionPass {
  private readonly lmEncode: GPUComputePipeline;
  private readonly lmSmooth: GPUComputePipeline;
  private readonly film0: GPUComputePipeline;
  private readonly filmTail: GPUComputePipeline;
  private readonly lmGroup: GPUBindGroup;
  private readonly filmGroup: GPUBindGroup;
  private readonly params: GPUBuffer;
  private readonly numPoints: number;
  private readonly codeLength: number;
  private readonly condHidden: number;
  private destroyed = false;

  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers) {
    const c = fb.avatar.config.condition;
    this.numPoints = c.numLandmarks * c.window;
    this.codeLength = this.numPoints * c.grid.levels * c.grid.featuresPerLevel;
    this.condHidden = c.hiddenDim;
    const wt = fb.precision;
    const lmModule = device.createShaderModule({
      label: 'r2t.condition.landmarks',
      code: buildModule({ parts: ['common/grid-index.wgsl', 'common/grid.wgsl', 'encoders/landmarks.wgsl'], consts: gridConsts(c.grid), weightType: wt }),
    });
    const lmLayout = makeLayout(device, 'r2t.condition.landmarks.bgl', ['read-only-storage', 'uniform', 'read-only-storage', 'storage', 'storage', 'uniform']);
    this.lmEncode = makePipeline(device, 'r2t.condition.encode', lmModule, 'encode_landmarks', [lmLayout]);
    this.lmSmooth = makePipeline(device, 'r2t.condition.smooth', lmModule, 'smooth_code', [lmLayout]);
    this.params = makeBuffer(device, 'r2t.condition.params', 16, UNIFORM());
    this.lmGroup = makeBindGroup(device, 'r2t.condition.landmarks.bg', lmLayout, [fb.condGrid, fb.condLevels, fb.points, fb.code, fb.prevCode, this.params]);
    const filmModule = device.createShaderModule({
      label: 'r2t.condition.film',
      code: buildModule({ parts: ['encoders/film.wgsl'], consts: { COND_IN: this.codeLength, COND_HID: c.hiddenDim, FILM_OUT: fb.consts.FILM_OUT, W_M1_0: fb.consts.W_M1_0, W_M1_1: fb.consts.W_M1_1, W_M1_2: fb.consts.W_M1_2, W_M2_0: fb.consts.W_M2_0, W_M2_1: fb.consts.W_M2_1, W_M2_2: fb.consts.W_M2_2 }, weightType: wt }),
    });
    const filmLayout = makeLayout(device, 'r2t.condition.film.bgl', ['read-only-storage', 'read-only-storage', 'storage', 'storage']);
    this.film0 = makePipeline(device, 'r2t.condition.film0', filmModule, 'film_layer0', [filmLayout]);
    this.filmTail = makePipeline(device, 'r2t.condition.filmTail', filmModule, 'film_tail', [filmLayout]);
    this.filmGroup = makeBindGroup(device, 'r2t.condition.film.bg', filmLayout, [fb.weights, fb.code, fb.hidden0, fb.film]);
  }

  /** smoothing: EMA weight of the previous code (0 = first frame or no smoothing). */
  setParams(smoothing: number): void {
    const buf = new ArrayBuffer(16);
    new Uint32Array(buf)[0] = this.numPoints;
    new Float32Array(buf)[1] = smoothing;
    this.device.queue.writeBuffer(this.params, 0, buf);
  }

  run(encoder: GPUCommandEncoder, mode: ConditionMode, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.condition', timestampWrites });
    if (mode === 'points') {
      pass.setPipeline(this.lmEncode);
      pass.setBindGroup(0, this.lmGroup);
      pass.dispatchWorkgroups(Math.ceil((this.numPoints * this.fb.avatar.config.condition.grid.levels) / 64));
      pass.setPipeline(this.lmSmooth);
      pass.dispatchWorkgroups(Math.ceil(this.codeLength / 64));
    }
    if (mode !== 'film') {
      pass.setPipeline(this.film0);
      pass.setBindGroup(0, this.filmGroup);
      pass.dispatchWorkgroups(this.condHidden, 2);
      pass.setPipeline(this.filmTail);
      pass.dispatchWorkgroups(2);
    }
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
  }
}
