/** Small helpers shared by the passes: labelled buffers, explicit bind group layouts, pipelines. */
import { alignedSize, checkBindingSize } from '../gpu/scope.ts';
import { R2TalkerError } from '../errors.ts';

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage' | 'storage-texture-rgba8';

export function makeBuffer(device: GPUDevice, label: string, bytes: number, usage: GPUBufferUsageFlags, data?: ArrayBufferView | ArrayBuffer): GPUBuffer {
  const size = alignedSize(bytes);
  if (usage & GPUBufferUsage.STORAGE) checkBindingSize(device, label, size);
  const buffer = device.createBuffer({ label, size, usage: usage | (data ? GPUBufferUsage.COPY_DST : 0) });
  if (data) {
    const view = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const len = view.byteLength & ~3;
    if (len > 0) writeData(device.queue, buffer, view.subarray(0, len));
    if (len < view.byteLength) {
      const tail = new Uint8Array(4);
      tail.set(view.subarray(len));
      device.queue.writeBuffer(buffer, len, tail);
    }
  }
  return buffer;
}

export const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
export const UNIFORM = () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;

export function makeLayout(device: GPUDevice, label: string, kinds: BindingKind[]): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label,
    entries: kinds.map((kind, binding): GPUBindGroupLayoutEntry => {
      const visibility = GPUShaderStage.COMPUTE;
      if (kind === 'storage-texture-rgba8') return { binding, visibility, storageTexture: { access: 'write-only', format: 'rgba8unorm' } };
      return { binding, visibility, buffer: { type: kind } };
    }),
  });
}

export function makeBindGroup(device: GPUDevice, label: string, layout: GPUBindGroupLayout, resources: (GPUBuffer | GPUTextureView)[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout,
    entries: resources.map((r, binding) => ({ binding, resource: 'getMappedRange' in r ? { buffer: r } : r })),
  });
}

/** How pipelines compile: 'async' (createComputePipelineAsync, the default) or 'sync'. */
export type CompileMode = 'async' | 'sync';

/**
 * 'async': compiling never blocks the caller's thread (seconds per kernel on SwiftShader), and
 * the passes start all their pipelines before awaiting any, so a driver with a compile pool
 * builds them concurrently. 'sync' exists for Node's `webgpu` package, whose async completion
 * is a setImmediate polling loop that keeps a core busy for the whole compile (measured on the
 * 2-core machines: about 2x the CPU time, and slower wall time under load).
 * A rejected pipeline is a bug in the generated code, not an input fault.
 */
export async function makePipeline(device: GPUDevice, label: string, module: GPUShaderModule, entryPoint: string, layouts: GPUBindGroupLayout[], constants: Record<string, number>, mode: CompileMode): Promise<GPUComputePipeline> {
  const desc: GPUComputePipelineDescriptor = {
    label,
    layout: device.createPipelineLayout({ label: `${label}.layout`, bindGroupLayouts: layouts }),
    compute: { module, entryPoint, constants },
  };
  if (mode === 'sync') return device.createComputePipeline(desc);
  try {
    return await device.createComputePipelineAsync(desc);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new R2TalkerError('INTERNAL', `${label}: compute pipeline creation failed: ${msg}`, { cause });
  }
}

/** Destroys each buffer/texture once; safe to call repeatedly. */
export function destroyAll(items: (GPUBuffer | GPUTexture | null | undefined)[]): void {
  for (const b of items) b?.destroy();
}

/** queue.writeBuffer for any typed array (the typings reject SharedArrayBuffer-backed views). */
export function writeData(queue: GPUQueue, buffer: GPUBuffer, data: ArrayBufferView | ArrayBuffer, offset = 0): void {
  if (data instanceof ArrayBuffer) queue.writeBuffer(buffer, offset, data);
  else queue.writeBuffer(buffer, offset, data as ArrayBufferView<ArrayBuffer>);
}
