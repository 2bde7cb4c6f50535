/** Per pixel: ray direction, aabb near/far, initial ray state and the first alive list. */
import type { FrameBuffers } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, UNIFORM } from './gpu-util.ts';
import { buildModule, splitGroups } from './wgsl.ts';

export class RayPass {
  private pipeline!: GPUComputePipeline;
  /** Resolves once the pipeline has compiled (see create). */
  readonly ready: Promise<void>;
  private readonly group: GPUBindGroup;
  readonly camera: GPUBuffer;
  private destroyed = false;

  constructor(device: GPUDevice, private readonly fb: FrameBuffers) {
    const module = device.createShaderModule({
      label: 'r2t.rays',
      code: buildModule({ parts: ['common/dispatch.wgsl', 'common/march-types.wgsl', 'marching/rays.wgsl'], consts: { MAX_PASSES: fb.maxPasses }, weightType: 'f32' }),
    });
    const layout = makeLayout(device, 'r2t.rays.bgl', ['uniform', 'storage', 'storage']);
    this.ready = makePipeline(device, 'r2t.rays.init', module, 'init_rays', [layout], {}, fb.compile).then((p) => {
      this.pipeline = p;
    });
    this.camera = makeBuffer(device, 'r2t.rays.camera', 112, UNIFORM());
    this.group = makeBindGroup(device, 'r2t.rays.bg', layout, [this.camera, fb.rays, fb.alive]);
  }

  run(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.rays', timestampWrites });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    const [x, y] = splitGroups(Math.ceil(this.fb.numRays / 64));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.camera.destroy();
  }
}
