/** Final composite: image = rgb + (1 - weight_sum) * bg' -> float image, RGBA8 buffer, texture. */
import type { FrameBuffers } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM } from './gpu-util.ts';
import { buildModule, splitGroups } from './wgsl.ts';

export class OutputPass {
  private pipeline!: GPUComputePipeline;
  readonly ready: Promise<void>;
  private readonly group: GPUBindGroup;
  private readonly params: GPUBuffer;
  private destroyed = false;

  constructor(device: GPUDevice, private readonly fb: FrameBuffers) {
    const module = device.createShaderModule({
      label: 'r2t.output',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'compositing/final.wgsl'], consts: { MAX_PASSES: fb.maxPasses }, weightType: 'f32' }),
    });
    const layout = makeLayout(device, 'r2t.output.bgl', ['read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage-texture-rgba8', 'uniform']);
    this.ready = makePipeline(device, 'r2t.output.final', module, 'final_composite', [layout], {}, fb.compile).then((p) => {
      this.pipeline = p;
    });
    this.params = makeBuffer(device, 'r2t.output.params', 16, UNIFORM(), new Uint32Array([fb.avatar.camera.width, fb.avatar.camera.height, 0, 0]));
    this.group = makeBindGroup(device, 'r2t.output.bg', layout, [fb.rays, fb.bgFinal, fb.image, fb.rgba8, fb.texture.createView({ label: 'r2t.frameTexture.view' }), this.params]);
  }

  run(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.output', timestampWrites });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    const [x, y] = splitGroups(Math.ceil(this.fb.numRays / 64));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
  }
}
