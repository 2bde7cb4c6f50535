/**
 * Output frames at a requested size: the native frame scaled to fit (the smaller of the width
 * and height ratios, so a 512x512 avatar in 1280x720 is scaled to 720 rows) and centred over
 * the avatar's background extended by mirrored sampling (no seams at the avatar's edges, where
 * the rendered frame shows the same background); bilinear resampling, round to nearest. Hands
 * out a texture (rgba8unorm: TEXTURE_BINDING | COPY_SRC, for canvases / VideoFrame in browsers),
 * an RGBA8 storage buffer and an I420 buffer (see i420.ts), all written on the GPU.
 */
import type { FrameBuffers } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM } from './gpu-util.ts';
import { checkI420Size, i420Size } from './i420.ts';
import { ConfigError } from '../errors.ts';
import { buildModule, splitGroups } from './wgsl.ts';

export interface OutputSize {
  width: number;
  height: number;
}

/** Where the native frame lands in the output. */
export function placement(src: OutputSize, dst: OutputSize): { scale: number; ox: number; oy: number } {
  const scale = Math.min(dst.width / src.width, dst.height / src.height);
  return { scale, ox: (dst.width - src.width * scale) / 2, oy: (dst.height - src.height * scale) / 2 };
}

export const MAX_OUTPUT_SIDE = 8192;

export class ComposePass {
  readonly texture: GPUTexture;
  readonly rgba: GPUBuffer;
  readonly i420: GPUBuffer;
  readonly i420Bytes: number;
  private compose!: GPUComputePipeline;
  private toI420!: GPUComputePipeline;
  readonly ready: Promise<void>;
  private readonly group: GPUBindGroup;
  private readonly params: GPUBuffer;
  private destroyed = false;

  constructor(device: GPUDevice, private readonly fb: FrameBuffers, readonly size: OutputSize) {
    checkI420Size(size.width, size.height);
    if (size.width > MAX_OUTPUT_SIDE || size.height > MAX_OUTPUT_SIDE) throw new ConfigError(`output size: expected at most ${MAX_OUTPUT_SIDE} per side, got ${size.width}x${size.height}`);
    const { width, height } = fb.avatar.camera;
    const module = device.createShaderModule({ label: 'r2t.compose', code: buildModule({ parts: ['common/dispatch.wgsl', 'compositing/compose.wgsl'], consts: {}, weightType: 'f32' }) });
    const layout = makeLayout(device, 'r2t.compose.bgl', ['read-only-storage', 'read-only-storage', 'storage', 'storage-texture-rgba8', 'uniform', 'storage']);
    this.ready = Promise.all([makePipeline(device, 'r2t.compose.compose', module, 'compose', [layout], {}, fb.compile), makePipeline(device, 'r2t.compose.i420', module, 'to_i420', [layout], {}, fb.compile)]).then(([c, i]) => {
      this.compose = c;
      this.toI420 = i;
    });
    this.i420Bytes = i420Size(size.width, size.height);
    const words = Math.ceil(this.i420Bytes / 4);
    this.rgba = makeBuffer(device, 'r2t.out.rgba', size.width * size.height * 4, STORAGE());
    this.i420 = makeBuffer(device, 'r2t.out.i420', words * 4, STORAGE());
    this.texture = device.createTexture({
      label: 'r2t.out.texture',
      size: [size.width, size.height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    const p = placement({ width, height }, size);
    const buf = new ArrayBuffer(32);
    new Uint32Array(buf).set([width, height, size.width, size.height]);
    new Float32Array(buf).set([p.scale, p.ox, p.oy], 4);
    new Uint32Array(buf)[7] = words;
    this.params = makeBuffer(device, 'r2t.compose.params', 32, UNIFORM(), buf);
    this.group = makeBindGroup(device, 'r2t.compose.bg', layout, [fb.rgba8, fb.background, this.rgba, this.texture.createView(), this.params, this.i420]);
  }

  run(encoder: GPUCommandEncoder, i420: boolean): void {
    const pass = encoder.beginComputePass({ label: 'r2t.compose' });
    pass.setBindGroup(0, this.group);
    pass.setPipeline(this.compose);
    pass.dispatchWorkgroups(...splitGroups(Math.ceil((this.size.width * this.size.height) / 64)));
    if (i420) {
      pass.setPipeline(this.toI420);
      pass.dispatchWorkgroups(...splitGroups(Math.ceil(this.i420Bytes / 4 / 64)));
    }
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.rgba.destroy();
    this.i420.destroy();
    this.texture.destroy();
    this.params.destroy();
  }
}
